// Command gitops-check reads Kubernetes objects (YAML or JSON, several documents or a List, from
// files or stdin) and prints one JSON line per object: the status kstatus computes for it (what
// Flux's health checks and `kubectl wait`-style tools built on cli-utils read) and the result of
// an Argo CD custom health check written in Lua, run by gopher-lua as Argo CD runs it.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// Result is what the checker prints for one object.
type Result struct {
	Kind           string `json:"kind"`
	Name           string `json:"name"`
	Phase          string `json:"phase,omitempty"`
	KStatus        string `json:"kstatus"`
	KStatusMessage string `json:"kstatusMessage"`
	Health         string `json:"health"`
	HealthMessage  string `json:"healthMessage"`
}

func main() {
	healthScript := flag.String("health-lua", "", "Argo CD health check script (Lua)")
	flag.Parse()
	if *healthScript == "" {
		fatal(errors.New("-health-lua is required"))
	}
	script, err := os.ReadFile(*healthScript)
	if err != nil {
		fatal(err)
	}
	inputs := flag.Args()
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	out := json.NewEncoder(os.Stdout)
	for _, input := range inputs {
		objects, err := read(input)
		if err != nil {
			fatal(fmt.Errorf("reading %s: %w", input, err))
		}
		for _, u := range objects {
			r, err := check(u, string(script))
			if err != nil {
				fatal(fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err))
			}
			if err := out.Encode(r); err != nil {
				fatal(err)
			}
		}
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "gitops-check:", err)
	os.Exit(1)
}

// read returns every object of a file ("-": stdin), the items of a List expanded.
func read(input string) ([]*unstructured.Unstructured, error) {
	var r io.Reader = os.Stdin
	if input != "-" {
		f, err := os.Open(input)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	decoder := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	var objects []*unstructured.Unstructured
	for {
		// raw JSON, decoded by the unstructured scheme: integers stay int64 as kstatus expects
		var doc json.RawMessage
		if err := decoder.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return objects, nil
			}
			return nil, err
		}
		if len(doc) == 0 || string(doc) == "null" {
			continue
		}
		decoded, _, err := unstructured.UnstructuredJSONScheme.Decode(doc, nil, nil)
		if err != nil {
			return nil, err
		}
		switch o := decoded.(type) {
		case *unstructured.UnstructuredList:
			for i := range o.Items {
				objects = append(objects, &o.Items[i])
			}
		case *unstructured.Unstructured:
			objects = append(objects, o)
		default:
			return nil, fmt.Errorf("unexpected %T", decoded)
		}
	}
}

func check(u *unstructured.Unstructured, script string) (*Result, error) {
	computed, err := status.Compute(u)
	if err != nil {
		return nil, fmt.Errorf("kstatus: %w", err)
	}
	health, message, err := luaHealth(u.Object, script)
	if err != nil {
		return nil, fmt.Errorf("lua: %w", err)
	}
	phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
	return &Result{
		Kind:           u.GetKind(),
		Name:           u.GetName(),
		Phase:          phase,
		KStatus:        computed.Status.String(),
		KStatusMessage: computed.Message,
		Health:         health,
		HealthMessage:  message,
	}, nil
}

// luaHealth runs a health script as Argo CD does: the object as the global table obj, the
// script's return value a table with status and message; only the safe standard libraries.
func luaHealth(obj map[string]interface{}, script string) (string, string, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
	} {
		l.Push(l.NewFunction(lib.open))
		l.Push(lua.LString(lib.name))
		l.Call(1, 0)
	}
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return "", "", err
	}
	ret, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", fmt.Errorf("the script returned %s, not a table", l.Get(-1).Type())
	}
	st := ret.RawGetString("status")
	msg := ret.RawGetString("message")
	if st.Type() != lua.LTString {
		return "", "", errors.New("the script's table has no status")
	}
	message := ""
	if msg.Type() == lua.LTString {
		message = msg.String()
	}
	return st.String(), message, nil
}

// toLua converts decoded JSON to Lua values: objects to tables keyed by name, arrays to tables
// indexed from 1, null to nil.
func toLua(l *lua.LState, v interface{}) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(x)
	case string:
		return lua.LString(x)
	case int64:
		return lua.LNumber(x)
	case float64:
		return lua.LNumber(x)
	case json.Number:
		f, _ := x.Float64()
		return lua.LNumber(f)
	case []interface{}:
		t := l.NewTable()
		for _, item := range x {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]interface{}:
		t := l.NewTable()
		for k, item := range x {
			t.RawSetString(k, toLua(l, item))
		}
		return t
	default:
		return lua.LString(fmt.Sprint(x))
	}
}
