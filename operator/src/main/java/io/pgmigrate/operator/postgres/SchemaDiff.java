package io.pgmigrate.operator.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The definitions of the replicated tables on the source and on the target, and what differs
 * between them: logical replication carries no DDL, so a table or column added on the source
 * while replicating stops the apply (or its rows) until the target has it too.
 *
 * <p>Every name, type and expression is read as the server prints it with {@code search_path}
 * set to pg_catalog alone: identifiers quoted where needed (quote_ident), every user type and
 * function schema-qualified (format_type, pg_get_expr), so the same definition reads the same on
 * both servers whatever their majors, and the SQL built from these pieces needs no quoting here.
 */
public final class SchemaDiff {

  /** A column: quoted name, type with its modifier, and what new rows and old rows get. */
  public record Column(
      String name, String type, boolean notNull, String defaultExpr, String missingLiteral,
      String generatedExpr, String identity) {}

  /**
   * A permanent table or partitioned table: quoted qualified name, owner, primary key, where it
   * hangs in a partition tree, and its columns in order.
   */
  public record Table(
      String name, String owner, String primaryKey, String partitionOf, String partitionBound,
      String partitionKey, List<Column> columns) {

    boolean partitioned() {
      return partitionKey != null;
    }

    Column column(String columnName) {
      return columns.stream().filter(c -> c.name().equals(columnName)).findFirst().orElse(null);
    }
  }

  /** How a difference is called in status. */
  public enum Change {
    TableAdded, ColumnAdded, TableNotSubscribed, TableDropped, ColumnDropped, TypeChanged,
    NotNullAdded, NotNullDropped
  }

  /**
   * One difference. {@code statements} bring the target in line; {@code optional} ones may fail
   * without undoing the others (an owner the target lacks); {@code refresh}, when not null, must
   * run after them, outside a transaction. {@code additive} differences are the ones
   * applySchemaChanges applies.
   */
  public record Drift(
      String object, Change change, List<String> statements, List<String> optional,
      String refresh, boolean additive, String note) {

    /** The SQL to show: every statement, in order. */
    public String ddl() {
      var all = new ArrayList<>(statements);
      all.addAll(optional);
      if (refresh != null) {
        all.add(refresh);
      }
      return String.join("; ", all) + ";";
    }
  }

  /** What one database holds: its tables, and the tables our subscription has (target only). */
  public record Definitions(Map<String, Table> tables, Set<String> subscribed) {}

  private static final String TABLES = " and c.relkind in ('r', 'p') and c.relpersistence = 'p'";

  private SchemaDiff() {}

  /**
   * Reads the connected database's permanent tables and, with a subscription name, the tables
   * that subscription has ({@code subscribed} is null when it does not exist). Catalog reads
   * only; the session's search_path is changed, so the connection is for this read alone.
   */
  public static Definitions read(Connection c, String subscription) throws SQLException {
    try (var st = c.createStatement()) {
      st.execute("set search_path = pg_catalog, pg_temp");
    }
    var tables = new LinkedHashMap<String, Table>();
    try (var st = c.createStatement();
        var rs = st.executeQuery(
            """
            select pg_catalog.format('%I.%I', n.nspname, c.relname),
                   pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(c.relowner)),
                   (select pg_catalog.format('CONSTRAINT %I ', k.conname)
                             || pg_catalog.pg_get_constraintdef(k.oid)
                      from pg_catalog.pg_constraint k
                     where k.conrelid = c.oid and k.contype = 'p'),
                   (select pg_catalog.format('%I.%I', pn.nspname, p.relname)
                      from pg_catalog.pg_inherits i
                      join pg_catalog.pg_class p on p.oid = i.inhparent
                      join pg_catalog.pg_namespace pn on pn.oid = p.relnamespace
                     where c.relispartition and i.inhrelid = c.oid),
                   case when c.relispartition
                        then pg_catalog.pg_get_expr(c.relpartbound, c.oid) end,
                   case when c.relkind = 'p' then pg_catalog.pg_get_partkeydef(c.oid) end
            """ + Catalog.USER_RELATIONS + TABLES + " order by 1")) {
      while (rs.next()) {
        tables.put(rs.getString(1), new Table(rs.getString(1), rs.getString(2), rs.getString(3),
            rs.getString(4), rs.getString(5), rs.getString(6), new ArrayList<>()));
      }
    }
    // the value a column's older rows read (its fast default) is in attmissingval, which a
    // login may be denied (then a new column with a default counts as one to add by hand);
    // an array type whose delimiter is not a comma cannot be split as text[]
    boolean missingReadable;
    try (var st = c.createStatement();
        var rs = st.executeQuery("select pg_catalog.has_column_privilege("
            + "'pg_catalog.pg_attribute'::pg_catalog.regclass, 'attmissingval', 'SELECT')")) {
      rs.next();
      missingReadable = rs.getBoolean(1);
    }
    var missing = missingReadable
        ? "case when a.atthasmissing and t.typdelim = ','"
            + " then pg_catalog.quote_literal((a.attmissingval::text::text[])[1]) end"
        : "null::text";
    try (var st = c.createStatement();
        var rs = st.executeQuery(
            """
            select pg_catalog.format('%%I.%%I', n.nspname, c.relname),
                   pg_catalog.quote_ident(a.attname),
                   pg_catalog.format_type(a.atttypid, a.atttypmod),
                   a.attnotnull,
                   case when a.attgenerated = '' then pg_catalog.pg_get_expr(d.adbin, d.adrelid) end,
                   %s,
                   case when a.attgenerated <> '' then pg_catalog.pg_get_expr(d.adbin, d.adrelid) end,
                   case a.attidentity when 'a' then 'ALWAYS' when 'd' then 'BY DEFAULT' end
            from pg_catalog.pg_attribute a
            join pg_catalog.pg_class c on c.oid = a.attrelid
            join pg_catalog.pg_namespace n on n.oid = c.relnamespace
            join pg_catalog.pg_type t on t.oid = a.atttypid
            left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
            where a.attnum > 0 and not a.attisdropped
              and c.oid in (select c.oid %s)
            order by 1, a.attnum
            """.formatted(missing, Catalog.USER_RELATIONS.replace("%", "%%") + TABLES))) {
      while (rs.next()) {
        var table = tables.get(rs.getString(1));
        if (table != null) {
          table.columns().add(new Column(rs.getString(2), rs.getString(3), rs.getBoolean(4),
              rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8)));
        }
      }
    }
    Set<String> subscribed = null;
    if (subscription != null) {
      try (var ps = c.prepareStatement(
          """
          select s.oid, pg_catalog.format('%I.%I', n.nspname, c.relname)
          from pg_catalog.pg_subscription s
          left join pg_catalog.pg_subscription_rel r on r.srsubid = s.oid
          left join pg_catalog.pg_class c on c.oid = r.srrelid
          left join pg_catalog.pg_namespace n on n.oid = c.relnamespace
          where s.subname = ?
            and s.subdbid = (select oid from pg_catalog.pg_database
                             where datname = pg_catalog.current_database())
          """)) {
        ps.setString(1, subscription);
        try (var rs = ps.executeQuery()) {
          while (rs.next()) {
            if (subscribed == null) {
              subscribed = new TreeSet<>();
            }
            if (rs.getString(2) != null) {
              subscribed.add(rs.getString(2));
            }
          }
        }
      }
    }
    return new Definitions(tables, subscribed);
  }

  /**
   * What differs between the source's tables and the target's, ordered so that applying the
   * additive ones in this order works (a partitioned table before its partitions, tables before
   * the refresh). {@code subscription} is the quoted name of our subscription; with {@code
   * target.subscribed()} null (no subscription yet) tables are compared but not the
   * subscription's membership. A table only on the target counts only when our subscription
   * has it: other tables there are the target's own.
   */
  public static List<Drift> compare(Map<String, Table> source, Definitions target,
      String subscription) {
    var drift = new ArrayList<Drift>();
    var subscribed = target.subscribed();
    var refresh = "ALTER SUBSCRIPTION " + subscription + " REFRESH PUBLICATION";
    for (var table : source.values()) {
      var there = target.tables().get(table.name());
      if (there == null) {
        drift.add(tableAdded(table, refresh));
        continue;
      }
      if (subscribed != null && !table.partitioned() && !subscribed.contains(table.name())) {
        drift.add(new Drift(table.name(), Change.TableNotSubscribed, List.of(), List.of(),
            refresh, true, "applied with applySchemaChanges (the refresh copies its rows); else"
                + " run the SQL on the target"));
      }
      for (var col : table.columns()) {
        var other = there.column(col.name());
        var object = table.name() + "." + col.name();
        var alter = "ALTER TABLE " + table.name() + " ALTER COLUMN " + col.name();
        if (other == null) {
          drift.add(columnAdded(table, col));
        } else if (!col.type().equals(other.type())) {
          drift.add(new Drift(object, Change.TypeChanged,
              List.of(alter + " TYPE " + col.type() + " USING " + col.name() + "::" + col.type()),
              List.of(), null, false, "never applied (it rewrites the target's table and may"
                  + " fail or change values): the target keeps " + other.type() + "; applying"
                  + " fails once a value does not fit it. Run the SQL on the target when it"
                  + " suits you"));
        } else if (col.notNull() != other.notNull()) {
          drift.add(new Drift(object, col.notNull() ? Change.NotNullAdded : Change.NotNullDropped,
              List.of(alter + (col.notNull() ? " SET NOT NULL" : " DROP NOT NULL")), List.of(),
              null, false, col.notNull()
                  ? "never applied: the target still accepts NULL here; run the SQL on the"
                      + " target when it suits you (it scans the table)"
                  : "never applied: the target still refuses NULL here, so applying fails once"
                      + " the source writes one; run the SQL on the target"));
        }
      }
      for (var col : there.columns()) {
        if (table.column(col.name()) == null) {
          drift.add(new Drift(table.name() + "." + col.name(), Change.ColumnDropped,
              List.of("ALTER TABLE " + table.name() + " DROP COLUMN " + col.name()), List.of(),
              null, false, "never applied (its data on the target would be lost): new rows get"
                  + (col.notNull() && col.defaultExpr() == null
                      ? " no value, and the column is NOT NULL on the target, so applying"
                          + " fails; drop the column or its NOT NULL on the target"
                      : " NULL or its default there; drop it on the target when you no longer"
                          + " need it")));
        }
      }
    }
    if (subscribed != null) {
      for (var name : subscribed) {
        if (!source.containsKey(name)) {
          drift.add(new Drift(name, Change.TableDropped, List.of("DROP TABLE " + name), List.of(),
              null, false, "never applied: the target keeps the table and its rows; drop it"
                  + " there when you no longer need it"));
        }
      }
    }
    drift.sort(Comparator.comparingInt((Drift d) -> order(d, source)).thenComparing(Drift::object)
        .thenComparing(d -> d.change().name()));
    return drift;
  }

  /** Partitioned tables, then other tables, partitions, columns; the refreshes and the rest last. */
  private static int order(Drift d, Map<String, Table> source) {
    return switch (d.change()) {
      case TableAdded -> {
        var t = source.get(d.object());
        yield t.partitioned() ? (t.partitionOf() == null ? 0 : 1) : t.partitionOf() == null ? 2
            : 3;
      }
      case ColumnAdded -> 4;
      case TableNotSubscribed -> 5;
      default -> 6;
    };
  }

  private static Drift tableAdded(Table table, String refresh) {
    var statements = new ArrayList<String>();
    var optional = new ArrayList<String>();
    var note = "applied with applySchemaChanges (columns, primary key and owner; then the"
        + " subscription is refreshed, which copies its rows); indexes, other constraints,"
        + " triggers and grants are not created: add them on the target";
    if (table.partitionOf() != null) {
      // columns and primary key come from the parent
      statements.add("CREATE TABLE IF NOT EXISTS " + table.name() + " PARTITION OF "
          + table.partitionOf() + " " + table.partitionBound()
          + (table.partitioned() ? " PARTITION BY " + table.partitionKey() : ""));
    } else {
      var parts = new ArrayList<String>();
      for (var col : table.columns()) {
        var def = new StringBuilder(col.name()).append(' ').append(col.type());
        if (col.generatedExpr() != null) {
          def.append(" GENERATED ALWAYS AS (").append(col.generatedExpr()).append(") STORED");
        } else if (col.identity() != null) {
          def.append(" GENERATED ").append(col.identity()).append(" AS IDENTITY");
        }
        if (col.notNull()) {
          def.append(" NOT NULL");
        }
        parts.add(def.toString());
        if (col.defaultExpr() != null) {
          // a default may name a sequence or function the target lacks: the table comes anyway
          optional.add("ALTER TABLE " + table.name() + " ALTER COLUMN " + col.name()
              + " SET DEFAULT " + col.defaultExpr());
        }
      }
      if (table.primaryKey() != null) {
        parts.add(table.primaryKey());
      }
      statements.add("CREATE TABLE IF NOT EXISTS " + table.name() + " (" + String.join(", ", parts)
          + ")" + (table.partitioned() ? " PARTITION BY " + table.partitionKey() : ""));
    }
    optional.add("ALTER TABLE " + table.name() + " OWNER TO " + table.owner());
    // a partitioned table holds no rows and is not in the subscription: no refresh for it
    return new Drift(table.name(), Change.TableAdded, statements, optional,
        table.partitioned() ? null : refresh, true, note);
  }

  /**
   * A column the target lacks. The source's rows that existed before the column was added read
   * its fast default (attmissingval: the default evaluated once, when it was added); the target's
   * rows are those same rows, so they get that value, then the column gets the source's default
   * for rows to come. Without a fast default the source's older rows are NULL, unless a volatile
   * default (gen_random_uuid(), nextval, clock_timestamp()) rewrote the table and gave each row
   * its own value, which no WAL carries: a default without a fast one is never applied, and an
   * identity column (numbered by that rewrite) neither.
   */
  private static Drift columnAdded(Table table, Column col) {
    var object = table.name() + "." + col.name();
    var add = "ALTER TABLE " + table.name() + " ADD COLUMN IF NOT EXISTS " + col.name() + " "
        + col.type();
    var alter = "ALTER TABLE " + table.name() + " ALTER COLUMN " + col.name();
    if (col.generatedExpr() != null) {
      // not replicated (PostgreSQL up to 17 sends no generated column), so applying does not
      // wait for it; adding it rewrites the target's table, too long for an operator's thread
      return new Drift(object, Change.ColumnAdded,
          List.of(add + " GENERATED ALWAYS AS (" + col.generatedExpr() + ") STORED"), List.of(),
          null, false, "never applied: a stored generated column, which replication does not"
              + " need (the source sends none); adding it rewrites the target's table, so run"
              + " the SQL on the target when it suits you");
    }
    if (col.identity() != null) {
      return new Drift(object, Change.ColumnAdded,
          List.of(add + " GENERATED " + col.identity() + " AS IDENTITY"), List.of(), null, false,
          "never applied: the source numbered its existing rows when the column was added and"
              + " no WAL carries those numbers; add the column on the target and copy the"
              + " values of the older rows from the source");
    }
    if (col.missingLiteral() != null) {
      var statements = new ArrayList<String>();
      statements.add(add + " DEFAULT " + col.missingLiteral() + "::" + col.type()
          + (col.notNull() ? " NOT NULL" : ""));
      if (col.defaultExpr() == null) {
        statements.add(alter + " DROP DEFAULT");
      } else if (!col.defaultExpr().equals(col.missingLiteral() + "::" + col.type())) {
        statements.add(alter + " SET DEFAULT " + col.defaultExpr());
      }
      return new Drift(object, Change.ColumnAdded, statements, List.of(), null, true,
          "applied with applySchemaChanges: the target's rows get the value the source's older"
              + " rows have, new rows the source's default");
    }
    if (col.defaultExpr() != null) {
      return new Drift(object, Change.ColumnAdded,
          List.of(add, alter + " SET DEFAULT " + col.defaultExpr()), List.of(), null, false,
          "never applied: the source's rows older than the column are NULL, or got each a value"
              + " of a volatile default that no WAL carries; applying the source's changes to"
              + " this table fails until you add the column on the target (the SQL) and, if the"
              + " older rows have values on the source, copy them");
    }
    return new Drift(object, Change.ColumnAdded, List.of(add), List.of(), null, true,
        "applied with applySchemaChanges: nullable on the target, older rows NULL as on the"
            + " source" + (col.notNull() ? " (NOT NULL is reported once the column is there)"
                : ""));
  }
}
