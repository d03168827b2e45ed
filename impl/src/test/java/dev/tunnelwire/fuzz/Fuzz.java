package dev.tunnelwire.fuzz;

import dev.tunnelwire.testkit.RecordingLeakDetector;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Shared steps of the fuzz targets ({@code *FuzzTest}, docs/security.md "Fuzzing"): feed fuzz bytes into an
 * {@link EmbeddedChannel} the way the network delivers them (in two reads split at a fuzz-chosen point), let timers
 * fire, close, release everything, and turn what must not happen into an {@link AssertionError} (a finding).
 *
 * <p>Input layout used by every network target: byte 0 chooses the split point (and target-specific options in its
 * other uses); the rest is what the peer sends. The leak check runs after every execution: the testkit's
 * {@link RecordingLeakDetector} (PARANOID, set by the surefire argLine) records leaks as the garbage collector finds
 * them, so a leak is reported by a later execution at the latest; {@link dev.tunnelwire.testkit.LeakCheckExtension}
 * checks again, with forced collections, after each regression input.
 */
public final class Fuzz {

    /** Outbound bytes a handler may write in answer to one input before the target calls it unbounded. */
    public static final int MAX_ANSWER_BYTES = 1 << 20;

    private static long executions;

    private Fuzz() {
    }

    /** The offset at which {@code data} (the peer's bytes) is split into two reads, chosen by {@code selector}. */
    public static int split(int selector, int length) {
        return length == 0 ? 0 : (selector & 0xFF) * (length + 1) / 256;
    }

    /** {@code input} without its first (option) byte. */
    public static byte[] payload(byte[] input) {
        return input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length);
    }

    /** Byte 0 of {@code input}, 0 for the empty input. */
    public static int option(byte[] input) {
        return input.length == 0 ? 0 : input[0] & 0xFF;
    }

    /**
     * Writes {@code data} into {@code ch} as two reads (each a fresh buffer of the channel's allocator, as a socket
     * read is) split at {@code split}; an exception that reaches the end of the pipeline is passed to
     * {@code allowed}, and one it does not accept is a finding.
     */
    public static void feed(EmbeddedChannel ch, byte[] data, int split, Predicate<Throwable> allowed) {
        int s = Math.max(0, Math.min(split, data.length));
        write(ch, data, 0, s, allowed);
        write(ch, data, s, data.length - s, allowed);
    }

    private static void write(EmbeddedChannel ch, byte[] data, int off, int len, Predicate<Throwable> allowed) {
        if (len == 0 || !ch.isOpen()) {
            return;
        }
        ByteBuf b = ch.alloc().buffer(len).writeBytes(data, off, len);
        try {
            ch.writeInbound(b);
            ch.runPendingTasks();
        } catch (Throwable t) {
            check(t, allowed);
        }
    }

    /** Lets the channel's scheduled tasks (handshake timeouts) run, as if {@code seconds} had passed. */
    public static void advance(EmbeddedChannel ch, long seconds, Predicate<Throwable> allowed) {
        try {
            ch.advanceTimeBy(seconds, TimeUnit.SECONDS);
            ch.runScheduledPendingTasks();
            ch.runPendingTasks();
        } catch (Throwable t) {
            check(t, allowed);
        }
    }

    /**
     * Closes {@code ch}, releases everything it still holds and returns the number of outbound bytes it had
     * written; fails when that number is unbounded.
     */
    public static long finish(EmbeddedChannel ch, Predicate<Throwable> allowed) {
        long out = 0;
        try {
            out += drainOutbound(ch);
            ch.close();
            ch.runPendingTasks();
            out += drainOutbound(ch);
        } catch (Throwable t) {
            check(t, allowed);
        }
        try {
            ch.finishAndReleaseAll();
        } catch (Throwable t) {
            check(t, allowed);
        }
        if (out > MAX_ANSWER_BYTES) {
            throw new AssertionError("unbounded answer: " + out + " bytes");
        }
        return out;
    }

    /** Reads and releases every outbound message; returns their byte count. */
    public static long drainOutbound(EmbeddedChannel ch) {
        long n = 0;
        for (Object m; (m = ch.readOutbound()) != null; ) {
            if (m instanceof ByteBuf b) {
                n += b.readableBytes();
            }
            ReferenceCountUtil.release(m);
        }
        return n;
    }

    /** Releases every message in {@code msgs}. */
    public static void releaseAll(List<?> msgs) {
        for (Object m : msgs) {
            ReferenceCountUtil.release(m);
        }
        msgs.clear();
    }

    private static void check(Throwable t, Predicate<Throwable> allowed) {
        if (t instanceof AssertionError e) {
            throw e;
        }
        if (!allowed.test(t)) {
            throw new AssertionError("unexpected exception escaped the pipeline: " + t, t);
        }
    }

    /** True for the given exception types and for their wrapping in a {@link io.netty.handler.codec.DecoderException}. */
    @SafeVarargs
    public static Predicate<Throwable> causedBy(Class<? extends Throwable>... types) {
        return t -> {
            for (Throwable c = t; c != null; c = c.getCause()) {
                for (Class<? extends Throwable> type : types) {
                    if (type.isInstance(c)) {
                        return true;
                    }
                }
                if (c.getCause() == c) {
                    break;
                }
            }
            return false;
        };
    }

    /**
     * Exceptions that only a bug throws (not NumberFormatException: Netty's HTTP decoders report a bad status code or
     * chunk size with it, and the http proxy logs that as a bad upstream response). Handlers catch what their decoders throw, log it with
     * {@code String.valueOf(cause)} and close, so such an exception would never reach the end of the pipeline;
     * {@link #watchingLog} finds it in the log instead.
     */
    private static final java.util.regex.Pattern BUG = java.util.regex.Pattern.compile(
            "(NullPointer|IndexOutOfBounds|ClassCast|IllegalState|Arithmetic|NegativeArraySize|UnsupportedOperation"
                    + "|ConcurrentModification|IllegalReferenceCount)Exception|StackOverflowError"
                    + "|OutOfMemoryError");

    /**
     * Runs {@code step} with {@code System.err} (where slf4j-simple writes the test JVM's log, looked up per line)
     * captured, copies what it logged to the real {@code System.err}, and fails when a line names an exception that
     * only a bug throws ({@link #BUG}), unless the input itself contains that name (handlers log parts of what they
     * were sent: the first finding of the {@code http} target was its own input's "OutOfMemoryError" in a logged
     * header name).
     */
    public static void watchingLog(byte[] input, Runnable step) {
        java.io.PrintStream real = System.err;
        java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(log, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            step.run();
        } finally {
            System.setErr(real);
        }
        String text = log.toString(java.nio.charset.StandardCharsets.UTF_8);
        real.print(text);
        String sent = new String(input, java.nio.charset.StandardCharsets.ISO_8859_1);
        java.util.regex.Matcher m = BUG.matcher(text);
        while (m.find()) {
            if (sent.contains(m.group())) {
                continue;
            }
            throw new AssertionError("a handler logged an unexpected " + m.group() + ":\n" + text);
        }
    }

    /** Nothing may escape. */
    public static final Predicate<Throwable> NOTHING = t -> false;

    /**
     * Fails when the leak detector has reported a leaked buffer since the last call. Every 4096 executions it also
     * asks for a collection, so that leaks are found while fuzzing and not only at the end.
     */
    public static void noLeaks() {
        if (++executions % 4096 == 0) {
            System.gc();
        }
        List<String> leaks = RecordingLeakDetector.drain();
        if (!leaks.isEmpty()) {
            throw new AssertionError(leaks.size() + " leaked buffer(s) (reported now, caused by this or an earlier"
                    + " input):\n" + String.join("\n", leaks));
        }
    }
}
