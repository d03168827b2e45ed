package dev.tunnelwire.conformance;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * The application side reached over plain TCP: for an external server under test (it forwards each tunnel to
 * {@link #listen the engine's application address}), for proxy protocols (the destination the proxy dials is this
 * address) and for an external client under test (the application connects to the client's local entry point and the
 * first payload is what it writes first).
 */
public final class SocketApp extends AppEndpoint {

    private final ServerSocket server;
    private final InetSocketAddress connectTo;
    private volatile Socket socket;

    private SocketApp(WireLog log, ServerSocket server, InetSocketAddress connectTo) {
        super(log);
        this.server = server;
        this.connectTo = connectTo;
    }

    /** Accepts the first connection on {@code bind} (port 0: any) as the tunnel's application end. */
    public static SocketApp listen(WireLog log, InetSocketAddress bind) throws IOException {
        ServerSocket ss = new ServerSocket();
        ss.setReuseAddress(true);
        // A fixed application port may still be held for a moment by the previous case's sockets: retry briefly.
        long deadline = System.nanoTime() + 3_000_000_000L;
        while (true) {
            try {
                ss.bind(bind);
                break;
            } catch (java.net.BindException e) {
                if (System.nanoTime() > deadline) {
                    ss.close();
                    throw e;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    ss.close();
                    throw e;
                }
            }
        }
        SocketApp app = new SocketApp(log, ss, null);
        Thread t = new Thread(app::acceptLoop, "conformance-app-accept");
        t.setDaemon(true);
        t.start();
        return app;
    }

    /** Opens tunnels by connecting to {@code entry}, the client-under-test's local entry point. */
    public static SocketApp connecting(WireLog log, InetSocketAddress entry) {
        return new SocketApp(log, null, entry);
    }

    /** The address an external server must forward tunnels to ({@code ${app.host}:${app.port}}). */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    private void acceptLoop() {
        try {
            Socket s = server.accept();
            socket = s;
            tunnelAccepted("connection from " + s.getRemoteSocketAddress());
            pump(s);
        } catch (IOException e) {
            // server socket closed at the end of the case
        }
    }

    private void pump(Socket s) {
        Thread t = new Thread(() -> {
            byte[] b = new byte[65536];
            try {
                // not closed here: closing the stream closes the socket, and after a half-close (FIN) the
                // application may still write; close() at the end of the case closes it
                InputStream in = s.getInputStream();
                int r;
                while ((r = in.read(b)) >= 0) {
                    delivered(java.util.Arrays.copyOf(b, r));
                }
                inputShutdown();
            } catch (IOException e) {
                closed(); // reset, or closed by the case
            }
        }, "conformance-app-read");
        t.setDaemon(true);
        t.start();
    }

    @Override
    protected boolean eofIsClose() {
        return true;
    }

    @Override
    public boolean openSucceedsEarly() {
        return connectTo != null;
    }

    @Override
    public void open(byte[] firstPayload) {
        openRequested();
        try {
            Socket s = new Socket();
            s.connect(connectTo, 5000);
            s.setTcpNoDelay(true);
            socket = s;
            if (firstPayload.length > 0) {
                s.getOutputStream().write(firstPayload);
            }
            opened("connected to " + connectTo);
            pump(s);
        } catch (IOException e) {
            openFailed(e);
        }
    }

    @Override
    public void write(byte[] data) {
        log.app("writes " + data.length + " bytes");
        try {
            socket.getOutputStream().write(data);
        } catch (IOException | NullPointerException e) {
            log.note("application write failed: " + e);
        }
    }

    @Override
    public void shutdownOutput() {
        log.app("shuts its output down");
        try {
            socket.shutdownOutput();
        } catch (IOException | NullPointerException e) {
            log.note("application shutdownOutput failed: " + e);
        }
    }

    @Override
    public void close() {
        try {
            if (socket != null) {
                socket.close();
            }
            if (server != null) {
                server.close();
            }
        } catch (IOException ignored) {
            // closing
        }
    }
}
