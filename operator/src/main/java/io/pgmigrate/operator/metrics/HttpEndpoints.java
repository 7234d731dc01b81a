package io.pgmigrate.operator.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * /metrics (Prometheus text format), /healthz (the operator runs and its informers are healthy)
 * and /readyz (the operator has started), for the Deployment's probes and Prometheus.
 */
public final class HttpEndpoints implements AutoCloseable {

  private final HttpServer server;

  public HttpEndpoints(int port, PrometheusMeterRegistry registry, Operator operator)
      throws IOException {
    server = HttpServer.create(new InetSocketAddress(port), 0);
    server.createContext("/metrics", x -> respond(x, 200,
        "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
    server.createContext("/healthz", x -> {
      var info = operator.getRuntimeInfo();
      boolean healthy = info.isStarted() && info.allEventSourcesAreHealthy();
      respond(x, healthy ? 200 : 503, "text/plain", healthy ? "ok\n" : "unhealthy\n");
    });
    server.createContext("/readyz", x -> {
      boolean ready = operator.getRuntimeInfo().isStarted();
      respond(x, ready ? 200 : 503, "text/plain", ready ? "ok\n" : "starting\n");
    });
    server.setExecutor(Executors.newSingleThreadExecutor(r -> {
      var t = new Thread(r, "http-endpoints");
      t.setDaemon(true);
      return t;
    }));
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void respond(HttpExchange x, int code, String type, String body)
      throws IOException {
    var bytes = body.getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().set("Content-Type", type);
    x.sendResponseHeaders(code, bytes.length);
    try (var out = x.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
