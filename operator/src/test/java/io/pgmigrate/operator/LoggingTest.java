package io.pgmigrate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The operator's logging configuration: plain text by default, JSON with LOG_FORMAT=json. */
class LoggingTest {

  /** One event through the appender the operator's logback.xml attaches for the format. */
  @SuppressWarnings("unchecked")
  static String encodeOneLine(String format) throws Exception {
    var context = new LoggerContext();
    context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    if (format != null) {
      context.putProperty("LOG_FORMAT", format);
    }
    var configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(LoggingTest.class.getResource("/logback.xml"));
    var root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    var appenders = new java.util.ArrayList<OutputStreamAppender<ILoggingEvent>>();
    root.iteratorForAppenders().forEachRemaining(
        a -> appenders.add((OutputStreamAppender<ILoggingEvent>) a));
    assertThat(appenders).hasSize(1);
    var logger = context.getLogger("io.pgmigrate.operator.Test");
    var event = new LoggingEvent("test", logger, Level.INFO, "phase changed to {}", null,
        new Object[] {"Syncing"});
    var bytes = appenders.get(0).getEncoder().encode(event);
    context.stop();
    return new String(bytes, StandardCharsets.UTF_8).strip();
  }

  @Test
  void jsonWhenAskedOneObjectPerLine() throws Exception {
    var line = encodeOneLine("json");
    assertThat(line.lines()).hasSize(1);
    assertThat(line).startsWith("{").endsWith("}")
        .contains("\"level\":\"INFO\"")
        .contains("\"loggerName\":\"io.pgmigrate.operator.Test\"")
        .contains("\"formattedMessage\":\"phase changed to Syncing\"");
  }

  @Test
  void plainTextByDefault() throws Exception {
    var line = encodeOneLine(null);
    assertThat(line).doesNotStartWith("{").contains("INFO").contains("phase changed to Syncing");
  }
}
