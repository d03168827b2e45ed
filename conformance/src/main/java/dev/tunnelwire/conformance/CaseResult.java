package dev.tunnelwire.conformance;

import java.util.List;

/**
 * The outcome of one case.
 *
 * @param id          the fixture id
 * @param fixture     the fixture
 * @param target      the target's name
 * @param status      PASS, FAIL (the implementation did not do what the case requires), ERROR (the case could not
 *                    run: broken fixture, target failed to start) or SKIPPED (the target cannot run it, with reason)
 * @param step        index of the failing step, or -1
 * @param requirement the failing step's {@code note} (what the spec requires), or the case title
 * @param expected    what the step expected (on FAIL)
 * @param actual      what happened instead (on FAIL); a timeout is an outcome of its own
 * @param message     one-line summary
 * @param durationMs  wall time
 * @param wireLog     the case's wire log
 */
public record CaseResult(String id, Fixture fixture, String target, Status status, int step, String requirement,
                         String expected, String actual, String message, long durationMs,
                         List<WireLog.Entry> wireLog) {

    /** DEVIATION: failed, and the fixture documents this peer's deviation (peerDeviations) with evidence. */
    public enum Status { PASS, FAIL, ERROR, SKIPPED, DEVIATION }

    /** This result, reclassified as a documented deviation of {@code peer} when it failed and the fixture says so. */
    public CaseResult asDeviationOf(String peer) {
        if (status != Status.FAIL || peer == null) {
            return this;
        }
        String dev = fixture.deviation(peer);
        if (dev == null) {
            return this;
        }
        return new CaseResult(id, fixture, target, Status.DEVIATION, step, requirement, expected, actual,
                "documented deviation of " + peer + ": " + dev, durationMs, wireLog);
    }

    public boolean passed() {
        return status == Status.PASS;
    }

    /** Multi-line failure text, h2spec style. */
    public String failureText() {
        StringBuilder sb = new StringBuilder();
        sb.append(id).append(": ").append(status).append(step >= 0 ? " at step " + step : "").append('\n');
        if (requirement != null) {
            sb.append("  Requirement: ").append(requirement).append('\n');
        }
        if (expected != null) {
            sb.append("  Expected: ").append(expected).append('\n');
        }
        if (actual != null) {
            sb.append("  Actual:   ").append(actual).append('\n');
        }
        if (message != null) {
            sb.append("  ").append(message).append('\n');
        }
        sb.append("  Wire log:\n");
        for (WireLog.Entry e : wireLog) {
            sb.append(String.format("  %6d %-4s %s%n", e.t(), e.kind(), e.text()));
        }
        return sb.toString();
    }
}
