package dev.tunnelwire.interop;

import java.net.InetSocketAddress;

/**
 * The definition of one cell: the cell, what the peer's config gets, what our side is, how the workload enters the
 * tunnel on inbound cells, and whether the cell is expected to be unsupported or hit a known peer bug.
 *
 * @param cell        the cell
 * @param role        the peer role hosting the peer's half (e.g. {@code gost-server}); one process per role
 * @param peer        adds the peer's half of the cell to the role's config
 * @param ours        our half
 * @param entry       inbound only: the peer client's local entry type
 * @param unsupported non-null: the peer cannot do this cell (the reason, with a reference); the cell is not run
 * @param knownBug    non-null: a documented peer bug (issue link or analysis) explains a failure of this cell; the
 *                    cell still runs and passes if the bug does not show
 */
record CellDef(Cell cell, String role, PeerSide peer, OurSide ours, Entry entry, String unsupported,
               String knownBug) {

    /** How the workload reaches the peer client on inbound cells. */
    enum Entry {
        /** A TCP port forwarding to a fixed target (gost tcp service, Xray tunnel inbound). */
        TCP,
        /** A SOCKS5 (or mixed) inbound; the CONNECT target is the echo server. */
        SOCKS5
    }

    /**
     * Ports of one cell.
     *
     * @param peer outbound: the peer server's listening port; inbound: the peer client's entry port
     * @param ours inbound: the port the peer client connects to (our recording proxy in front of our server)
     * @param echo the echo target
     */
    record Ports(int peer, int ours, InetSocketAddress echo) {
    }

    /** Adds the peer's half of a cell to its role's config. */
    @FunctionalInterface
    interface PeerSide {
        void configure(Role role, Ports ports);
    }

    CellDef unsupported(String reason) {
        return new CellDef(cell, role, peer, ours, entry, reason, knownBug);
    }

    /**
     * The same cell in a role of its own (e.g. {@code xray-client+<tag>}): for a cell that can crash the peer, so
     * that the crash does not take the other cells of the role down with it.
     */
    CellDef isolated() {
        return new CellDef(cell, role + "+" + cell.tag(), peer, ours, entry, unsupported, knownBug);
    }

    CellDef knownBug(String evidence) {
        return new CellDef(cell, role, peer, ours, entry, unsupported, evidence);
    }
}
