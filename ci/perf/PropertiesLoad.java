// Java's own figure for the parser benchmark: java.util.Properties.load(InputStream) on FILE,
// in-process, after JIT warm-up. Prints `MB/s <median>` (MB = 10^6 bytes), like
// core/examples/parse_throughput.rs.
//
//     java ci/perf/PropertiesLoad.java FILE [ROUNDS]
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Properties;

public class PropertiesLoad {
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: java PropertiesLoad.java FILE [ROUNDS]");
            System.exit(64);
        }
        byte[] bytes = Files.readAllBytes(Path.of(args[0]));
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 9;
        int warmup = 10;
        double[] rates = new double[rounds];
        long sink = 0;
        for (int round = 0; round < warmup + rounds; round++) {
            Properties p = new Properties();
            long start = System.nanoTime();
            p.load(new ByteArrayInputStream(bytes));
            long nanos = System.nanoTime() - start;
            sink += p.size();
            if (round >= warmup) {
                rates[round - warmup] = bytes.length / (nanos / 1e9) / 1e6;
            }
        }
        Arrays.sort(rates);
        System.out.printf("MB/s %.1f%n", rates[rounds / 2]);
        // Keeps the loads observable, so the JIT cannot drop them.
        if (sink == Long.MIN_VALUE) {
            System.err.println(sink);
        }
    }
}
