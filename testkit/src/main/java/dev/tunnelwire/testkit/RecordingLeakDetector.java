package dev.tunnelwire.testkit;

import io.netty.util.ResourceLeakDetector;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A {@link ResourceLeakDetector} that, besides logging as Netty does, records every leak it reports so that
 * {@link LeakCheckExtension} can fail the test that caused it.
 *
 * <p>Installed for every test JVM by the parent POM's {@code argLine}:
 * {@code -Dio.netty.customResourceLeakDetector=dev.tunnelwire.testkit.RecordingLeakDetector} together with
 * {@code -Dio.netty.leakDetection.level=paranoid}. Netty instantiates it reflectively through one of the two
 * constructors below, once per resource type (ByteBuf, HashedWheelTimer, ...).
 *
 * @param <T> the tracked resource type
 */
public final class RecordingLeakDetector<T> extends ResourceLeakDetector<T> {

    private static final ConcurrentLinkedQueue<String> LEAKS = new ConcurrentLinkedQueue<>();
    private static volatile boolean installed;

    public RecordingLeakDetector(Class<?> resourceType, int samplingInterval) {
        super(resourceType, samplingInterval);
        installed = true;
    }

    public RecordingLeakDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
        this(resourceType, samplingInterval);
    }

    /** Whether Netty has created at least one detector of this class in this JVM. */
    public static boolean isInstalled() {
        return installed;
    }

    /** Returns and forgets the leak reports recorded so far. */
    public static List<String> drain() {
        List<String> out = new ArrayList<>();
        for (String s; (s = LEAKS.poll()) != null; ) {
            out.add(s);
        }
        return out;
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
        LEAKS.add("LEAK: " + resourceType + ".release() was not called before it was garbage-collected."
                + records);
        super.reportTracedLeak(resourceType, records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
        LEAKS.add("LEAK: " + resourceType + ".release() was not called before it was garbage-collected"
                + " (no access records).");
        super.reportUntracedLeak(resourceType);
    }
}
