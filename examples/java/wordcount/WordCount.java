import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import wrun.Job;
import wrun.ObjectRef;
import wrun.Task1;
import wrun.Wrun;

/**
 * Map-reduce word count over a generated text, like examples/rust/wordcount
 * and examples/python/wordcount (the same generator, so all print the same
 * result):
 *
 * <pre>
 * wrun submit wordcount.wasm
 * # -> {"words": 20000, "distinct": 50, "top": [["and", 825], ["the", 802], ...]}
 * </pre>
 *
 * <p>The driver puts the chunks in the object store; map tasks receive a chunk
 * by reference (the host resolves it before they run); one reduce task
 * receives the partial counts as references (passed on, not fetched) and gets
 * them itself. The driver checks the result against a local count.
 */
public final class WordCount implements Job {
    static final String[] VOCABULARY = ("the of and to in a is that for it as was with be by on not he this are or "
            + "his from at which but have an had they you were their one all we can her has there been if more "
            + "when will would who so no wasm").split(" ");
    static final int WORDS = 20_000;
    static final int CHUNKS = 16;

    static final Task1<String, Map<String, Long>> COUNT_WORDS = Wrun.task("countWords", WordCount::countWords);
    static final Task1<List<ObjectRef<Map<String, Long>>>, Map<String, Long>> MERGE =
            Wrun.task("merge", WordCount::merge);

    /** WORDS words (xorshift64*, skewed towards the vocabulary's start), in CHUNKS chunks. */
    static List<String> generate() {
        long state = 0x5EED;
        List<String> words = new ArrayList<>(WORDS);
        for (int i = 0; i < WORDS; i++) {
            state ^= state >>> 12;
            state ^= state << 25;
            state ^= state >>> 27;
            long r = state * 0x2545F4914F6CDD1DL;
            long a = Long.remainderUnsigned(r, 50);
            long b = (r >>> 32) % 50;
            words.add(VOCABULARY[(int) Math.min(a, b)]);
        }
        int size = (WORDS + CHUNKS - 1) / CHUNKS;
        List<String> chunks = new ArrayList<>();
        for (int i = 0; i < WORDS; i += size) {
            chunks.add(String.join(" ", words.subList(i, Math.min(i + size, WORDS))));
        }
        return chunks;
    }

    /** Counts the words of a text (in the order they first appear). */
    static Map<String, Long> count(String text) {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String w : text.split(" ")) {
            if (!w.isEmpty()) {
                counts.put(w, counts.getOrDefault(w, 0L) + 1);
            }
        }
        return counts;
    }

    /** Counts the words of one chunk. */
    static Map<String, Long> countWords(String chunk) {
        return count(chunk);
    }

    /** Gets the partial counts (references) and merges them. */
    static Map<String, Long> merge(List<ObjectRef<Map<String, Long>>> parts) {
        Map<String, Long> total = new LinkedHashMap<>();
        for (Map<String, Long> part : Wrun.get(parts)) {
            for (Map.Entry<String, Long> e : part.entrySet()) {
                total.put(e.getKey(), total.getOrDefault(e.getKey(), 0L) + e.getValue());
            }
        }
        return total;
    }

    @Override
    public Object main(List<String> args) {
        List<String> chunks = generate();
        List<ObjectRef<Map<String, Long>>> parts = new ArrayList<>();
        for (String c : chunks) {
            parts.add(COUNT_WORDS.remote(Wrun.put(c)));
        }
        Map<String, Long> counts = MERGE.remote(parts).get();
        if (!counts.equals(count(String.join(" ", chunks)))) {
            throw new IllegalStateException("remote word counts differ from the local count");
        }
        List<Map.Entry<String, Long>> top = new ArrayList<>(counts.entrySet());
        top.sort((x, y) -> x.getValue().equals(y.getValue())
                ? x.getKey().compareTo(y.getKey())
                : Long.compare(y.getValue(), x.getValue()));
        List<List<Object>> best = new ArrayList<>();
        for (Map.Entry<String, Long> e : top.subList(0, Math.min(5, top.size()))) {
            best.add(List.of(e.getKey(), e.getValue()));
        }
        long words = 0;
        for (long n : counts.values()) {
            words += n;
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("words", words);
        result.put("distinct", counts.size());
        result.put("top", best);
        return result;
    }
}
