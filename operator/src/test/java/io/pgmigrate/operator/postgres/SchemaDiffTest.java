package io.pgmigrate.operator.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgmigrate.operator.postgres.SchemaDiff.Column;
import io.pgmigrate.operator.postgres.SchemaDiff.Definitions;
import io.pgmigrate.operator.postgres.SchemaDiff.Drift;
import io.pgmigrate.operator.postgres.SchemaDiff.Table;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SchemaDiffTest {

  static final String SUB = "\"pgmigrate_sub\"";

  static Column col(String name, String type) {
    return new Column(name, type, false, null, null, null, null);
  }

  static Table table(String name, Column... columns) {
    return new Table(name, "app", "CONSTRAINT t_pkey PRIMARY KEY (id)", null, null, null,
        new ArrayList<>(List.of(columns)));
  }

  static Map<String, Table> tables(Table... tables) {
    var map = new LinkedHashMap<String, Table>();
    for (var t : tables) {
      map.put(t.name(), t);
    }
    return map;
  }

  static Drift only(List<Drift> drift) {
    assertThat(drift).hasSize(1);
    return drift.get(0);
  }

  @Test
  void theSameDefinitionsOnBothSidesDifferInNothing() {
    var t = table("public.t", col("id", "integer"), col("v", "character varying(20)"));
    assertThat(SchemaDiff.compare(tables(t), new Definitions(tables(t), Set.of("public.t")), SUB))
        .isEmpty();
  }

  @Test
  void aNewNullableColumnIsAddedAsItIs() {
    var d = only(SchemaDiff.compare(
        tables(table("public.t", col("id", "integer"), col("\"Note\"", "text"))),
        new Definitions(tables(table("public.t", col("id", "integer"))), Set.of("public.t")),
        SUB));
    assertThat(d.object()).isEqualTo("public.t.\"Note\"");
    assertThat(d.change()).isEqualTo(SchemaDiff.Change.ColumnAdded);
    assertThat(d.additive()).isTrue();
    assertThat(d.ddl()).isEqualTo("ALTER TABLE public.t ADD COLUMN IF NOT EXISTS \"Note\" text;");
  }

  @Test
  void aColumnWithAFastDefaultGivesOlderRowsTheSourcesValueThenTheSourcesDefault() {
    var flag = new Column("ts", "timestamp with time zone", true, "now()",
        "'2026-11-29 20:01:47+00'", null, null);
    var d = only(SchemaDiff.compare(tables(table("public.t", col("id", "integer"), flag)),
        new Definitions(tables(table("public.t", col("id", "integer"))), Set.of("public.t")),
        SUB));
    assertThat(d.additive()).isTrue();
    assertThat(d.statements()).containsExactly(
        "ALTER TABLE public.t ADD COLUMN IF NOT EXISTS ts timestamp with time zone DEFAULT"
            + " '2026-11-29 20:01:47+00'::timestamp with time zone NOT NULL",
        "ALTER TABLE public.t ALTER COLUMN ts SET DEFAULT now()");
  }

  @Test
  void aDefaultWithoutFastDefaultAnIdentityOrAGeneratedColumnIsNeverApplied() {
    var uuid = new Column("u", "uuid", false, "gen_random_uuid()", null, null, null);
    var ident = new Column("n", "bigint", true, null, null, null, "ALWAYS");
    var twice = new Column("twice", "integer", false, null, null, "(x * 2)", null);
    var drift = SchemaDiff.compare(
        tables(table("public.t", col("id", "integer"), uuid, ident, twice)),
        new Definitions(tables(table("public.t", col("id", "integer"))), Set.of("public.t")),
        SUB);
    assertThat(drift).hasSize(3).noneMatch(Drift::additive);
    assertThat(drift).extracting(Drift::ddl).contains(
        "ALTER TABLE public.t ADD COLUMN IF NOT EXISTS u uuid;"
            + " ALTER TABLE public.t ALTER COLUMN u SET DEFAULT gen_random_uuid();",
        "ALTER TABLE public.t ADD COLUMN IF NOT EXISTS twice integer GENERATED ALWAYS AS"
            + " ((x * 2)) STORED;");
  }

  @Test
  void dropsTypeAndNotNullChangesAreReportedNotAdditive() {
    var src = table("public.t", col("id", "bigint"),
        new Column("v", "text", true, null, null, null, null));
    var dst = table("public.t", col("id", "integer"), col("v", "text"), col("old", "text"));
    var drift = SchemaDiff.compare(tables(src),
        new Definitions(tables(dst, table("public.gone", col("id", "integer"))),
            Set.of("public.t", "public.gone")), SUB);
    assertThat(drift).extracting(d -> d.object() + " " + d.change()).containsExactlyInAnyOrder(
        "public.t.id TypeChanged", "public.t.v NotNullAdded", "public.t.old ColumnDropped",
        "public.gone TableDropped");
    assertThat(drift).noneMatch(Drift::additive);
    assertThat(drift).filteredOn(d -> d.change() == SchemaDiff.Change.TypeChanged)
        .singleElement().extracting(Drift::ddl)
        .isEqualTo("ALTER TABLE public.t ALTER COLUMN id TYPE bigint USING id::bigint;");
  }

  @Test
  void aTargetTableOutsideTheSubscriptionIsTheTargetsOwn() {
    var t = table("public.t", col("id", "integer"));
    assertThat(SchemaDiff.compare(tables(t),
        new Definitions(tables(t, table("public.mine", col("id", "integer"))), Set.of("public.t")),
        SUB)).isEmpty();
  }

  @Test
  void newTablesComeParentsFirstWithTheirKeyAndOwnerThenTheRefresh() {
    var parent = new Table("public.ev", "app", null, null, null, "RANGE (at)",
        new ArrayList<>(List.of(col("at", "integer"))));
    var part = new Table("public.ev_1", "app", null, "public.ev", "FOR VALUES FROM (0) TO (10)",
        null, new ArrayList<>(List.of(col("at", "integer"))));
    var fresh = new Table("public.fresh", "\"App Owner\"", "CONSTRAINT fresh_pkey PRIMARY KEY (id)",
        null, null, null, new ArrayList<>(List.of(
            new Column("id", "integer", true, null, null, null, null),
            new Column("label", "text", false, "'x'::text", null, null, null))));
    var drift = SchemaDiff.compare(tables(part, fresh, parent),
        new Definitions(tables(), Set.of()), SUB);
    assertThat(drift).extracting(Drift::object)
        .containsExactly("public.ev", "public.fresh", "public.ev_1");
    assertThat(drift).allMatch(Drift::additive);
    assertThat(drift.get(0).refresh()).as("a partitioned table is not subscribed").isNull();
    assertThat(drift.get(2).statements()).containsExactly(
        "CREATE TABLE IF NOT EXISTS public.ev_1 PARTITION OF public.ev FOR VALUES FROM (0) TO (10)");
    assertThat(drift.get(1).ddl()).isEqualTo(
        "CREATE TABLE IF NOT EXISTS public.fresh (id integer NOT NULL, label text,"
            + " CONSTRAINT fresh_pkey PRIMARY KEY (id));"
            + " ALTER TABLE public.fresh ALTER COLUMN label SET DEFAULT 'x'::text;"
            + " ALTER TABLE public.fresh OWNER TO \"App Owner\";"
            + " ALTER SUBSCRIPTION \"pgmigrate_sub\" REFRESH PUBLICATION;");
  }

  @Test
  void aTableOnBothSidesButNotSubscribedAsksForARefresh() {
    var t = table("public.t", col("id", "integer"));
    var d = only(SchemaDiff.compare(tables(t), new Definitions(tables(t), Set.of()), SUB));
    assertThat(d.change()).isEqualTo(SchemaDiff.Change.TableNotSubscribed);
    assertThat(d.refresh()).isEqualTo("ALTER SUBSCRIPTION \"pgmigrate_sub\" REFRESH PUBLICATION");
  }
}
