package io.pgmigrate.operator.reconciler;

import io.pgmigrate.operator.reconciler.Decision.Event;
import java.time.Duration;
import java.util.List;

/** Outcome of one pass of a method step: Events to record and when to look again (or null). */
record StepResult(List<Event> events, Duration requeueAfter) {}
