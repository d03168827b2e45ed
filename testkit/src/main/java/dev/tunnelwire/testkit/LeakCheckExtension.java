package dev.tunnelwire.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.List;

/**
 * Fails a test when Netty's leak detector reports a leaked reference-counted object during or right after it.
 *
 * <p>Registered for every test class of every module through JUnit's extension auto-detection (the parent POM enables
 * it, and this jar lists the extension in {@code META-INF/services}). It requires the JVM to run with
 * {@code io.netty.leakDetection.level=paranoid} and {@link RecordingLeakDetector} as Netty's custom detector, and
 * fails any test run without them, so that a misconfigured build cannot pass silently.
 *
 * <p>After each test it forces garbage collection and then allocates tracked buffers, which is what makes Netty's
 * detector poll its reference queue and report objects that were collected without being released.
 */
public final class LeakCheckExtension implements BeforeEachCallback, AfterEachCallback {

    private static final int GC_ROUNDS = 3;

    @Override
    public void beforeEach(ExtensionContext context) {
        requireParanoid();
        // Leaks of an earlier test that were reported late must not be blamed on this one.
        collectAndPump();
        RecordingLeakDetector.drain();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        collectAndPump();
        List<String> leaks = RecordingLeakDetector.drain();
        if (!leaks.isEmpty()) {
            throw new AssertionError(leaks.size() + " leaked reference-counted object(s) detected in "
                    + context.getDisplayName() + ":\n" + String.join("\n", leaks));
        }
    }

    private static void requireParanoid() {
        if (ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID) {
            throw new IllegalStateException("tests must run with -Dio.netty.leakDetection.level=paranoid (found "
                    + ResourceLeakDetector.getLevel() + ")");
        }
        pump();
        if (!RecordingLeakDetector.isInstalled()) {
            throw new IllegalStateException("tests must run with -Dio.netty.customResourceLeakDetector="
                    + RecordingLeakDetector.class.getName());
        }
    }

    private static void collectAndPump() {
        for (int i = 0; i < GC_ROUNDS; i++) {
            System.gc();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            pump();
        }
    }

    /** Each tracked allocation drains the detector's reference queue and reports what it finds. */
    private static void pump() {
        for (ByteBufAllocator alloc : new ByteBufAllocator[] {
                ByteBufAllocator.DEFAULT, PooledByteBufAllocator.DEFAULT, UnpooledByteBufAllocator.DEFAULT}) {
            for (int i = 0; i < 4; i++) {
                ByteBuf b = alloc.directBuffer(16);
                b.release();
                b = alloc.heapBuffer(16);
                b.release();
            }
        }
    }
}
