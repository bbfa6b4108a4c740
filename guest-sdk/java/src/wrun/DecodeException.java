package wrun;

/** The bytes are not a well-formed wrun value, or hold one Java cannot represent. */
public final class DecodeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DecodeException(String message) {
        super(message);
    }
}
