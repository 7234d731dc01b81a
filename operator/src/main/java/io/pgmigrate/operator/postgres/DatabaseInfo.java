package io.pgmigrate.operator.postgres;

/** One row of pg_database, as seen by the login user. */
public record DatabaseInfo(
    String name,
    boolean template,
    boolean allowConnections,
    boolean canConnect,
    String encoding,
    String collate,
    String ctype,
    long sizeBytes) {}
