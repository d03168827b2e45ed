package dev.tunnelwire.interop;

import dev.tunnelwire.testkit.RecordingLeakDetector;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.util.List;

/**
 * Per-cell leak check: testkit's LeakCheckExtension runs around the whole test factory, this attributes a leak to the
 * cell that caused it (GC, then tracked allocations make the PARANOID detector report).
 */
final class LeakCheck {

    private LeakCheck() {
    }

    static List<String> drain() {
        for (int i = 0; i < 2; i++) {
            System.gc();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            for (int j = 0; j < 4; j++) {
                ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(16);
                b.release();
                b = ByteBufAllocator.DEFAULT.heapBuffer(16);
                b.release();
            }
        }
        return RecordingLeakDetector.drain();
    }
}
