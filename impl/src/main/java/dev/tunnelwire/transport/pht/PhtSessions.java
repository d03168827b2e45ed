package dev.tunnelwire.transport.pht;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The sessions of one PHT listener, by token, plus the tokens of recently closed sessions (for which a pull still
 * answers "closed" — a 200 with no line — and a push answers 410), so that a client polling a closed session learns
 * of the close instead of getting a fresh session. Thread-safe.
 */
final class PhtSessions {

    private static final int RECENTLY_CLOSED_MAX = 4096;

    private final int maxSessions;
    private final Map<String, PhtServerSession> live = new ConcurrentHashMap<>();
    private final Map<String, Long> recentlyClosed = new LinkedHashMap<>();

    PhtSessions(int maxSessions) {
        this.maxSessions = maxSessions;
    }

    PhtServerSession get(String token) {
        return live.get(token);
    }

    synchronized boolean wasClosed(String token) {
        return recentlyClosed.containsKey(token);
    }

    /** Registers a new session, or returns {@code null} when the listener is full. */
    synchronized PhtServerSession add(PhtServerSession s) {
        if (live.size() >= maxSessions) {
            return null;
        }
        PhtServerSession prev = live.putIfAbsent(s.token(), s);
        return prev == null ? s : prev;
    }

    synchronized void closed(PhtServerSession s) {
        live.remove(s.token(), s);
        recentlyClosed.put(s.token(), System.nanoTime());
        if (recentlyClosed.size() > RECENTLY_CLOSED_MAX) {
            Iterator<String> it = recentlyClosed.keySet().iterator();
            it.next();
            it.remove();
        }
    }

    int size() {
        return live.size();
    }
}
