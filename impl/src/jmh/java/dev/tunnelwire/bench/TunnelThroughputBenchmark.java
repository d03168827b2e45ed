package dev.tunnelwire.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Throughput of one tunnel of each transport, dialer and listener of this implementation on 127.0.0.1 in one JVM
 * (see {@link TunnelPair}). Each invocation moves {@value #MIB} MiB; the score (ops/s) is MiB/s:
 * <ul>
 *   <li>{@link #upload}: client to server;</li>
 *   <li>{@link #download}: server to client;</li>
 *   <li>{@link #echo}: client to server and back at the same time (the score counts one direction: MiB/s each
 *       way).</li>
 * </ul>
 * <p>Besides the score, each benchmark reports the CPU time of the whole process (both ends of the tunnel) as the
 * secondary results {@code cpuMillis} and {@code mebibytes}: their ratio is the CPU cost of the transport, which,
 * unlike the throughput, hardly depends on what else the machine is running ({@code 1024 * cpuMillis / mebibytes}
 * = CPU ms per GiB).
 *
 * <p>The forked JVM runs with Netty's default (SIMPLE) leak detection, not the PARANOID level of the tests: PARANOID
 * records a stack trace on every buffer access and measures the leak detector, not the transport.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Dio.netty.leakDetection.level=simple"})
@Threads(1)
public class TunnelThroughputBenchmark {

    /** MiB moved per invocation (per direction). */
    static final int MIB = 16;

    @Param({"tcp", "ws", "httpupgrade", "grpc", "h2c"})
    public String transport;

    @Param({"false"})
    public boolean tls;

    /** Event loops shared by both ends (the machine's cores by default would let a big box hide contention). */
    @Param({"2"})
    public int threads;

    private TunnelPair pair;

    @Setup(Level.Trial)
    public void open() throws Exception {
        pair = new TunnelPair(transport, params(transport), tls, threads);
    }

    @TearDown(Level.Trial)
    public void close() {
        pair.close();
    }

    /** Options in gost's metadata form for a scheme: the peers' usual settings, else the defaults. */
    static Map<String, String> params(String scheme) {
        Map<String, String> p = new LinkedHashMap<>();
        switch (scheme) {
            case "ws", "httpupgrade" -> p.put("path", "/bench");
            default -> {
            }
        }
        return p;
    }

    /** CPU time of the process and data moved in an iteration, as JMH secondary results. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Cost {
        private static final com.sun.management.OperatingSystemMXBean OS =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        public long cpuMillis;
        public long mebibytes;
        private long start;

        @Setup(Level.Iteration)
        public void reset() {
            cpuMillis = 0;
            mebibytes = 0;
        }

        void begin() {
            start = OS.getProcessCpuTime();
        }

        void end() {
            cpuMillis += (OS.getProcessCpuTime() - start) / 1_000_000;
            mebibytes += MIB;
        }
    }

    @Benchmark
    @OperationsPerInvocation(MIB)
    public void upload(Cost cost) throws Exception {
        cost.begin();
        pair.upload((long) MIB << 20);
        cost.end();
    }

    @Benchmark
    @OperationsPerInvocation(MIB)
    public void download(Cost cost) throws Exception {
        cost.begin();
        pair.download((long) MIB << 20);
        cost.end();
    }

    @Benchmark
    @OperationsPerInvocation(MIB)
    public void echo(Cost cost) throws Exception {
        cost.begin();
        pair.echo((long) MIB << 20);
        cost.end();
    }
}
