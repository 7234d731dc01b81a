package io.pgmigrate.operator.reconciler;

import io.pgmigrate.operator.api.CutoverSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * cutover.notBefore / cutover.notAfter: whether a cutover asked for may start now. A pure
 * function of the spec and the clock; a cutover already under way is never stopped by it.
 */
final class CutoverWindow {

  /** Why the cutover waits and when to look again; null when it may start. */
  record Wait(String message, Duration lookAgain) {}

  /** Never longer than this between looks, so an edited window is seen soon. */
  static final Duration LONGEST = Duration.ofSeconds(10);

  private CutoverWindow() {}

  static Wait check(CutoverSpec spec, Instant now) {
    Instant notBefore;
    Instant notAfter;
    try {
      notBefore = parse(spec.getNotBefore());
      notAfter = parse(spec.getNotAfter());
    } catch (DateTimeParseException e) {
      // the schema's pattern lets only RFC 3339 through; an impossible date still gets here
      return new Wait("cutover window: " + e.getParsedString() + " is not a time; fix"
          + " cutover.notBefore/notAfter", LONGEST);
    }
    if (notBefore != null && now.isBefore(notBefore)) {
      var left = Duration.between(now, notBefore);
      return new Wait("cutover asked for; it starts at " + notBefore + " (cutover.notBefore, in "
          + left.toSeconds() + " s)", left.compareTo(LONGEST) < 0 ? left : LONGEST);
    }
    if (notAfter != null && now.isAfter(notAfter)) {
      return new Wait("cutover asked for, but its window ended at " + notAfter
          + " (cutover.notAfter): not started; move the window to cut over", LONGEST);
    }
    return null;
  }

  private static Instant parse(String time) {
    return time == null || time.isBlank() ? null : OffsetDateTime.parse(time).toInstant();
  }
}
