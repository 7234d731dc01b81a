package io.pgmigrate.operator.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One {@code name=value} item of {@code pg_db_role_setting.setconfig}, split into the literals a
 * {@code SET name TO ...} clause needs.
 *
 * <p>The server stores the value of a list setting marked GUC_LIST_QUOTE (search_path and a few
 * others) already joined and quoted as identifiers: {@code SET search_path = audit, "my schema"}
 * is stored as {@code search_path=audit, "my schema"}. Written back as one literal, that becomes a
 * single schema named {@code audit, "my schema"}; so, like pg_dump, such values are split into
 * their elements and each element becomes its own literal. Every other setting stays one literal
 * ({@code DateStyle=ISO, MDY} is one value that happens to contain a comma).
 */
public record ConfigSetting(String name, List<String> values) {

  /**
   * The settings flagged GUC_LIST_QUOTE in the server, as pg_dump lists them (the server offers
   * no way to ask, and an extension's setting cannot be known anyway).
   */
  private static final Set<String> LIST_QUOTE =
      Set.of(
          "local_preload_libraries",
          "search_path",
          "session_preload_libraries",
          "shared_preload_libraries",
          "temp_tablespaces",
          "unix_socket_directories");

  public ConfigSetting {
    values = List.copyOf(values);
  }

  /** Parses a stored {@code name=value} item; the value may itself contain {@code =}. */
  public static ConfigSetting parse(String item) {
    int eq = item.indexOf('=');
    if (eq <= 0) {
      throw new IllegalArgumentException("not a name=value setting: " + item);
    }
    var name = item.substring(0, eq);
    var value = item.substring(eq + 1);
    if (!isListQuote(name)) {
      return new ConfigSetting(name, List.of(value));
    }
    var elements = splitList(value);
    // an empty list cannot be written as SET x TO (nothing); one empty literal is the nearest
    // thing, and the server itself never stores an empty list value (it stores "")
    return new ConfigSetting(name, elements.isEmpty() ? List.of("") : elements);
  }

  /** Whether the server stores this setting as a list of quoted elements (case-insensitive). */
  public static boolean isListQuote(String name) {
    return LIST_QUOTE.contains(name.toLowerCase(Locale.ROOT));
  }

  /**
   * Splits a stored list value into its elements: comma separated, whitespace around elements
   * ignored, a double-quoted element taken as is with {@code ""} standing for one quote. An empty
   * or blank value is an empty list.
   *
   * @throws IllegalArgumentException on an unterminated quote, an empty unquoted element, or
   *     text after an element that is not a comma
   */
  public static List<String> splitList(String raw) {
    var elements = new ArrayList<String>();
    int i = skipSpace(raw, 0);
    if (i == raw.length()) {
      return elements;
    }
    while (true) {
      var element = new StringBuilder();
      if (raw.charAt(i) == '"') {
        i++;
        while (true) {
          int close = raw.indexOf('"', i);
          if (close < 0) {
            throw new IllegalArgumentException("unterminated quote in list value: " + raw);
          }
          element.append(raw, i, close);
          if (close + 1 < raw.length() && raw.charAt(close + 1) == '"') {
            element.append('"');
            i = close + 2;
          } else {
            i = close + 1;
            break;
          }
        }
      } else {
        int start = i;
        while (i < raw.length() && raw.charAt(i) != ',' && !isSpace(raw.charAt(i))) {
          i++;
        }
        if (i == start) {
          throw new IllegalArgumentException("empty element in list value: " + raw);
        }
        element.append(raw, start, i);
      }
      elements.add(element.toString());
      i = skipSpace(raw, i);
      if (i == raw.length()) {
        return elements;
      }
      if (raw.charAt(i) != ',') {
        throw new IllegalArgumentException("expected a comma in list value: " + raw);
      }
      i = skipSpace(raw, i + 1);
      if (i == raw.length()) {
        throw new IllegalArgumentException("list value ends with a comma: " + raw);
      }
    }
  }

  /**
   * The {@code SET %I TO %L, ...} clause for pg_catalog.format(), one {@code %L} per value; its
   * arguments are {@link #arguments()}. Only placeholders, never a value, go into the pattern.
   */
  public String setClause() {
    return "SET %I TO " + String.join(", ", values.stream().map(v -> "%L").toList());
  }

  /** The values for {@link #setClause()}'s placeholders: the name, then each value. */
  public List<String> arguments() {
    var args = new ArrayList<String>(values.size() + 1);
    args.add(name);
    args.addAll(values);
    return args;
  }

  /**
   * Runs {@code <alter> SET name TO ...} for a stored item, where {@code alter} is a format()
   * pattern such as {@code ALTER ROLE %I IN DATABASE %I} and {@code alterArgs} its values.
   */
  static void apply(Connection c, String alter, List<String> alterArgs, String item)
      throws SQLException {
    ConfigSetting setting;
    try {
      setting = parse(item);
    } catch (IllegalArgumentException e) {
      throw new SQLException("cannot copy setting " + item + ": " + e.getMessage(), "22023", e);
    }
    var args = new ArrayList<>(alterArgs);
    args.addAll(setting.arguments());
    Sql.format(c, alter + " " + setting.setClause(), args.toArray(String[]::new));
  }

  private static int skipSpace(String s, int i) {
    while (i < s.length() && isSpace(s.charAt(i))) {
      i++;
    }
    return i;
  }

  /** The characters C's isspace() takes as white space in the C locale, like the server. */
  private static boolean isSpace(char ch) {
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == 0x0B;
  }
}
