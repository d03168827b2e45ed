package dev.tunnelwire.interop;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Counts what is written to System.err meanwhile (slf4j-simple writes there), passing it through. */
final class HostileLogCapture implements AutoCloseable {
    private final PrintStream original = System.err;
    private final ByteArrayOutputStream copy = new ByteArrayOutputStream();

    record Counts(int warnOrError, int stackFrames, int reachedTail) {
        String describe() {
            return "log: " + warnOrError + " WARN/ERROR lines, " + stackFrames + " stack-trace lines, "
                    + reachedTail + " 'reached the tail of the pipeline'";
        }
    }

    private HostileLogCapture() {
        System.setErr(new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                synchronized (copy) {
                    copy.write(b);
                }
                original.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                synchronized (copy) {
                    copy.write(b, off, len);
                }
                original.write(b, off, len);
            }
        }, true));
    }

    static HostileLogCapture start() {
        return new HostileLogCapture();
    }

    Counts counts() {
        String text;
        synchronized (copy) {
            text = copy.toString(StandardCharsets.UTF_8);
        }
        int warn = 0;
        int frames = 0;
        int tail = 0;
        for (String line : text.split("\n")) {
            if (line.contains(" WARN ") || line.contains(" ERROR ") || line.startsWith("WARN")
                    || line.startsWith("ERROR")) {
                warn++;
            }
            if (line.startsWith("\tat ")) {
                frames++;
            }
            if (line.contains("reached the tail of the pipeline")) {
                tail++;
            }
        }
        return new Counts(warn, frames, tail);
    }

    @Override
    public void close() {
        System.setErr(original);
    }
}
