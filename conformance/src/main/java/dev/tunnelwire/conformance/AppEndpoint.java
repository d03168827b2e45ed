package dev.tunnelwire.conformance;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * The application side of the implementation under test, as the engine observes and drives it: what the
 * implementation delivered out of the tunnel, what the application writes into it, and how the tunnel ends. One tunnel
 * per case.
 *
 * <p>Server role: the implementation's listener accepts a tunnel and hands it to this application (in-process: the
 * {@code TunnelInitializer}; external: a TCP connection the server under test forwards to the engine's application
 * address). Client role: the application opens the tunnel ({@link #open}).
 *
 * <p>Implementations feed events through the protected methods; all state is guarded by this object's monitor.
 */
public abstract class AppEndpoint implements AutoCloseable {

    /** State of a client-role open. */
    public enum OpenState { NOT_REQUESTED, PENDING, OPEN, FAILED }

    private final ByteArrayOutputStream delivered = new ByteArrayOutputStream();
    private int consumed;
    private int tunnels;
    private boolean eof;
    private boolean closed;
    private OpenState openState = OpenState.NOT_REQUESTED;
    private String openFailure;
    protected final WireLog log;
    private volatile String destination;

    protected AppEndpoint(WireLog log) {
        this.log = log;
    }

    // ---- driven by the engine ----

    /** Client role: asks the implementation to open a tunnel, with {@code firstPayload} (may be empty). */
    public abstract void open(byte[] firstPayload);

    /** Writes into the tunnel. */
    public abstract void write(byte[] data);

    /** Half-closes the tunnel's output (transports without half-close close the tunnel). */
    public abstract void shutdownOutput();

    /** Closes the tunnel. */
    @Override
    public abstract void close();

    /**
     * Proxy protocols, client role: the destination ({@code host:port}) the application asks the client under test to
     * reach through the proxy; set before {@link #open}.
     */
    public void destination(String hostPort) {
        this.destination = hostPort;
    }

    public String destination() {
        return destination;
    }

    // ---- fed by implementations ----

    protected final synchronized void tunnelAccepted(String info) {
        tunnels++;
        log.app("tunnel accepted" + (info == null ? "" : ": " + info) + (tunnels > 1 ? " (tunnel #" + tunnels + ")" : ""));
        notifyAll();
    }

    protected final synchronized void openRequested() {
        openState = OpenState.PENDING;
    }

    protected final synchronized void opened(String info) {
        openState = OpenState.OPEN;
        tunnels++;
        log.app("tunnel open" + (info == null ? "" : ": " + info));
        notifyAll();
    }

    protected final synchronized void openFailed(Throwable cause) {
        openState = OpenState.FAILED;
        openFailure = String.valueOf(cause);
        log.app("open failed: " + cause);
        notifyAll();
    }

    protected final synchronized void delivered(byte[] b) {
        delivered.writeBytes(b);
        log.app("delivered " + b.length + " bytes: " + PeerSocket.printable(Arrays.copyOf(b, Math.min(b.length, 256)))
                + (b.length > 256 ? "..." : ""));
        notifyAll();
    }

    protected final synchronized void inputShutdown() {
        if (!eof) {
            eof = true;
            log.app("end of input (half-close)");
            notifyAll();
        }
    }

    protected final synchronized void closed() {
        if (!closed) {
            closed = true;
            eof = true;
            log.app("tunnel closed");
            notifyAll();
        }
    }

    /**
     * Whether an open succeeds before the handshake is known (an external client's entry port accepts at once): then
     * a failed handshake shows only as the tunnel ending, and {@code expect_open_fails} accepts that.
     */
    public boolean openSucceedsEarly() {
        return false;
    }

    // ---- observed by the engine ----

    public synchronized int tunnels() {
        return tunnels;
    }

    public synchronized OpenState openState() {
        return openState;
    }

    public synchronized String openFailure() {
        return openFailure;
    }

    /** Whether end of input is all a close can look like here (a TCP socket: FIN); see {@link #awaitClosed}. */
    protected boolean eofIsClose() {
        return false;
    }

    /** Waits until a tunnel exists (server role) or the open finished (client role). */
    public synchronized boolean awaitTunnel(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (tunnels == 0 && openState != OpenState.FAILED) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return tunnels > 0;
    }

    /** Waits until a client-role open succeeded or failed. */
    public synchronized OpenState awaitOpenResult(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (openState == OpenState.PENDING || openState == OpenState.NOT_REQUESTED) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                break;
            }
            wait(left);
        }
        return openState;
    }

    /**
     * Waits until {@code n} unconsumed delivered bytes exist (or the input ended, or the time ran out), then consumes
     * and returns up to {@code n} of them.
     */
    public synchronized byte[] awaitDelivered(int n, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (delivered.size() - consumed < n && !eof) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                break;
            }
            wait(left);
        }
        byte[] all = delivered.toByteArray();
        int take = Math.min(n, all.length - consumed);
        byte[] out = Arrays.copyOfRange(all, consumed, consumed + take);
        consumed += take;
        return out;
    }

    /** Unconsumed delivered bytes, not consumed. */
    public synchronized byte[] pending() {
        byte[] all = delivered.toByteArray();
        return Arrays.copyOfRange(all, consumed, all.length);
    }

    public synchronized boolean awaitEof(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (!eof) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    /**
     * Waits until the tunnel is closed; where the application sees the tunnel as a TCP socket
     * ({@link #eofIsClose}), end of input counts, because a full close and a half-close look alike (FIN).
     */
    public synchronized boolean awaitClosed(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (!closed && !(eof && eofIsClose())) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }
}
