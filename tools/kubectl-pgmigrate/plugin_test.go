package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestHumanBytesPrintsAsTheOperatorDoes(t *testing.T) {
	// the values checks/Bytes.java gives (pg_size_pretty's rules, halves rounded up)
	for n, want := range map[int64]string{
		0: "0 bytes", 56: "56 bytes", 10239: "10239 bytes", 10240: "10 kB", 10752: "11 kB",
		1536000: "1500 kB", 15 << 20: "15 MB", 20 << 30: "20 GB", -20480: "-20 kB",
	} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func migrationFrom(t *testing.T, js string) *migration {
	t.Helper()
	m := &migration{}
	if err := json.Unmarshal([]byte(js), m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCutoverOnlyForAContinuousMigrationInSyncing(t *testing.T) {
	cases := []struct {
		name, js string
		force    bool
		refused  bool
		already  bool
	}{
		{"syncing", `{"status":{"phase":"Syncing","method":"continuous"}}`, false, false, false},
		{"migrating", `{"status":{"phase":"Migrating","method":"continuous"}}`, false, true, false},
		{"migrating, forced", `{"status":{"phase":"Migrating"}}`, true, false, false},
		{"no status yet, forced", `{}`, true, false, false},
		{"validating", `{"status":{"phase":"Validating"}}`, false, true, false},
		{"failed, even forced", `{"status":{"phase":"Failed","method":"continuous"}}`, true, true, false},
		{"failed dry run", `{"spec":{"validateOnly":true},"status":{"phase":"Failed"}}`, true, true, false},
		{"ready", `{"status":{"phase":"Ready","method":"continuous"}}`, true, true, false},
		{"dump", `{"spec":{"method":"dump"},"status":{"phase":"Migrating"}}`, true, true, false},
		{"fell back to dump", `{"status":{"phase":"Migrating","method":"dump"}}`, true, true, false},
		{"dry run", `{"spec":{"validateOnly":true},"status":{"phase":"Validating"}}`, true, true, false},
		{"being deleted", `{"metadata":{"deletionTimestamp":"2026-01-01T00:00:00Z"},"status":{"phase":"Syncing"}}`, false, true, false},
		{"asked for already", `{"spec":{"keepReplicating":false},"status":{"phase":"Syncing"}}`, false, false, true},
		{"under way, flag flipped back", `{"status":{"phase":"Syncing","databases":[{"name":"a","cutoverLsn":"0/1"}]}}`, false, false, true},
	}
	for _, c := range cases {
		m := migrationFrom(t, c.js)
		m.Metadata.Name = "shop"
		already, err := cutoverDecision(m, c.force)
		if m.phase() == phaseFailed && (err == nil ||
			!strings.Contains(err.Error(), "pgmigration/shop is Failed, not Syncing")) {
			t.Errorf("%s: %v, want the reason a Failed migration is left alone", c.name, err)
		}
		var r *refusal
		if refused := errors.As(err, &r); refused != c.refused {
			t.Errorf("%s: refused %v (%v), want %v", c.name, refused, err, c.refused)
		}
		if (already != "") != c.already {
			t.Errorf("%s: already %q, want %v", c.name, already, c.already)
		}
	}
}

func TestRestartTokenIsNewEvenWithinTheSameInstant(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	first := newRestartToken("", now)
	if second := newRestartToken(first, now); second == first {
		t.Errorf("the same token twice: %q", first)
	}
}

const syncing = `{"metadata":{"name":"shop","namespace":"apps","generation":2},
 "spec":{"keepReplicating":true},
 "status":{"phase":"Syncing","method":"continuous","observedGeneration":2,
  "message":"2/2 database(s) replicating, lag 56 bytes; set keepReplicating: false to cut over",
  "progress":"0/2","lag":"56 bytes","startedAt":"2026-01-02T03:00:00Z",
  "conditions":[{"type":"Ready","status":"True","reason":"Replicating","lastTransitionTime":"2026-01-02T03:01:00Z"}],
  "checks":[{"name":"versions","result":"Passed","message":"15 to 15"},
   {"name":"source.replicaIdentity","result":"Warning","message":"1 table(s) without key","remedy":"Add primary keys."}],
  "databases":[
   {"name":"shop","phase":"Replicating","tablesTotal":3,"tablesSynced":3,"lagBytes":56,"pod":"shop-1","message":"replicating"%s},
   {"name":"billing","phase":"Copying","tablesTotal":4,"tablesSynced":1,"message":"copying\ntwo lines"}]}}`

func TestStatusPrintsTheOptionalFiguresOnlyWhenTheOperatorWritesThem(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC)
	var plain bytes.Buffer
	if err := printStatus(&plain, migrationFrom(t, strings.Replace(syncing, "%s", "", 1)), now); err != nil {
		t.Fatal(err)
	}
	out := plain.String()
	for _, want := range []string{
		"Phase:      Syncing\n", "Started:    2026-01-02T03:00:00Z (5m ago)\n",
		"Cutover:    not asked for (keepReplicating: true)\n", "Databases:  0/2\n",
		"DATABASE  PHASE        TABLES  LAG       POD     MESSAGE\n",
		"shop      Replicating  3/3     56 bytes  shop-1  replicating\n",
		"billing   Copying      1/4     -         -       copying / two lines\n",
		"Checks: 1 passed, 1 warning, 0 failed\n",
		"source.replicaIdentity  Warning  1 table(s) without key\n",
		"                                 remedy: Add primary keys.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "LAG TIME") || strings.Contains(out, "COPIED") || strings.Contains(out, "versions") {
		t.Errorf("columns or checks that should not be there:\n%s", out)
	}

	var full bytes.Buffer
	extra := `,"lagSeconds":1.25,"rowsCopied":12345,"bytesCopied":15728640`
	if err := printStatus(&full, migrationFrom(t, strings.Replace(syncing, "%s", extra, 1)), now); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"DATABASE  PHASE        TABLES  LAG       LAG TIME  ROWS COPIED  BYTES COPIED  POD     MESSAGE\n",
		"shop      Replicating  3/3     56 bytes  1.3s      12345        15 MB         shop-1  replicating\n",
		"billing   Copying      1/4     -         -         -            -             -       copying / two lines\n",
	} {
		if !strings.Contains(full.String(), want) {
			t.Errorf("no %q in\n%s", want, full.String())
		}
	}
}

func TestADumpHasNoLagColumn(t *testing.T) {
	js := `{"metadata":{"name":"copy"},"status":{"phase":"Ready","method":"dump",
	  "databases":[{"name":"shop","phase":"Done","pod":"copy-1"}]}}`
	var out bytes.Buffer
	if err := printStatus(&out, migrationFrom(t, js), time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DATABASE  PHASE  TABLES  POD     MESSAGE\n",
		"shop      Done   -       copy-1  -\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "Cutover:") {
		t.Errorf("a dump has no cutover:\n%s", out.String())
	}
}

func TestStatusPrintsTheEstimateWithItsBasis(t *testing.T) {
	js := `{"metadata":{"name":"shop"},"spec":{"validateOnly":true},
	 "status":{"phase":"Validating","method":"dump",
	  "estimate":{"total":"1200 MB","totalBytes":1258291200,
	   "databases":[{"name":"shop","size":"1100 MB","sizeBytes":1153433600,"tables":12,
	     "largestTables":[{"name":"public.orders","size":"800 MB","sizeBytes":838860800},
	      {"name":"public.items","size":"200 MB","sizeBytes":209715200}]},
	    {"name":"billing","message":"could not measure: permission denied"}],
	   "targetFreeDisk":"not visible to this login: no SQL function",
	   "sourceWal":"2 MB per minute (...): a stalled replication slot would retain ~120 MB per hour",
	   "sourceWalBytesPerMinute":2097152,
	   "copyDuration":"~4 min","copySeconds":240,
	   "copyBasis":"estimate: from a 1.0 s COPY probe of shop: public.orders on the source at 5 MB/s"}}}`
	var out bytes.Buffer
	if err := printStatus(&out, migrationFrom(t, js), time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Estimate (measured while validating):\n",
		"  Data:              1200 MB in 2 databases\n",
		"  Copy:              ~4 min (estimate: from a 1.0 s COPY probe of shop: public.orders on the source at 5 MB/s)\n",
		"  Target free disk:  not visible to this login: no SQL function\n",
		"  Source WAL:        2 MB per minute (...): a stalled replication slot would retain ~120 MB per hour\n",
		"  DATABASE  SIZE     TABLES  LARGEST TABLES\n",
		"  shop      1100 MB  12      public.orders (800 MB), public.items (200 MB)\n",
		"  billing   -        -       could not measure: permission denied\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
}
