package io.pgmigrate.operator.testing;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Logback appender keeping every log line of the test JVM, so tests can search the logs. */
public class LogCapture extends AppenderBase<ILoggingEvent> {

  private static final List<String> LINES = new CopyOnWriteArrayList<>();

  @Override
  protected void append(ILoggingEvent event) {
    var line = event.getLoggerName() + " " + event.getFormattedMessage();
    if (event.getThrowableProxy() != null) {
      line += "\n" + ThrowableProxyUtil.asString(event.getThrowableProxy());
    }
    LINES.add(line);
  }

  public static List<String> lines() {
    return List.copyOf(LINES);
  }
}
