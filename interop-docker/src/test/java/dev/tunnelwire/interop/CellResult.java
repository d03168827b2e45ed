package dev.tunnelwire.interop;

import dev.tunnelwire.interop.Cell.State;

/** The outcome of one cell, as reported. */
final class CellResult {

    final CellDef def;
    State state;
    String reason = "";
    long bytes;
    long millis;
    /** Single-tunnel bulk throughput, MB/s both directions counted; 0 when not measured. */
    double megabytesPerSecond;
    /** The recorded transcript (failed and known-peer-bug cells). */
    String transcript = "";
    /** The tail of the peer role's log (failed and known-peer-bug cells). */
    String peerLog = "";

    CellResult(CellDef def) {
        this.def = def;
    }

    Cell cell() {
        return def.cell();
    }
}
