package wrun;

/**
 * A value of your own type that can cross to other tasks: {@link #toValue()}
 * turns it into something {@link Codec} encodes (a {@code Map} keyed by field
 * name, as the Rust SDK encodes a struct and the Python SDK a dataclass).
 * The receiver gets that plain value back, not this type.
 */
public interface Encodable {
    Object toValue();
}
