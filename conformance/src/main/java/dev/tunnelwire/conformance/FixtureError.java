package dev.tunnelwire.conformance;

/** A fixture that cannot be run as written (unknown value kind, undefined placeholder...): an error, not a failure. */
public final class FixtureError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public FixtureError(String message) {
        super(message);
    }
}
