// Test helper: loads each file named in the list file (one path per line) with
// java.util.Properties.load(InputStream), exactly as a Kafka broker reads server.properties,
// and prints one JSON line per file: {"ok":[[key,value],...]} (keys sorted) or {"err":"message"}.
// Pairs rather than an object: two keys that differ only in lone surrogates print alike.
// Non-ASCII is written as a JSON unicode escape; a lone surrogate is written as U+FFFD, the one documented
// difference of the Rust parser (a Rust string cannot hold a lone surrogate).
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;

public class PropsDump {
    public static void main(String[] args) throws IOException {
        List<String> paths = Files.readAllLines(Paths.get(args[0]), StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder();
        for (String path : paths) {
            if (path.isEmpty()) continue;
            Properties props = new Properties();
            try (InputStream in = new FileInputStream(path)) {
                props.load(in);
                TreeMap<String, String> sorted = new TreeMap<>();
                for (String k : props.stringPropertyNames()) sorted.put(k, props.getProperty(k));
                out.append("{\"ok\":[");
                boolean first = true;
                for (Map.Entry<String, String> e : sorted.entrySet()) {
                    if (!first) out.append(',');
                    first = false;
                    out.append('[');
                    json(out, e.getKey());
                    out.append(',');
                    json(out, e.getValue());
                    out.append(']');
                }
                out.append("]}\n");
            } catch (IllegalArgumentException e) {
                out.append("{\"err\":");
                json(out, e.getMessage());
                out.append("}\n");
            }
        }
        PrintStream ps = new PrintStream(new FileOutputStream(FileDescriptor.out), false, "US-ASCII");
        ps.print(out);
        ps.flush();
    }

    static void json(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                out.append(String.format("\\u%04x\\u%04x", (int) c, (int) s.charAt(i + 1)));
                i++;
            } else if (Character.isSurrogate(c)) {
                out.append("\\ufffd");
            } else if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        out.append('"');
    }
}
