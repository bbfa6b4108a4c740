package wrun;

import java.util.Arrays;

/**
 * A MessagePack extension value of a type wrun does not know, kept as is so
 * that it survives a round trip through Java.
 */
public final class Ext {
    private final int type;
    private final byte[] data;

    public Ext(int type, byte[] data) {
        if (type < -128 || type > 127) {
            throw new IllegalArgumentException("extension type " + type + " is not a signed byte");
        }
        this.type = type;
        this.data = data.clone();
    }

    public int type() {
        return type;
    }

    public byte[] data() {
        return data.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Ext && ((Ext) o).type == type && Arrays.equals(((Ext) o).data, data);
    }

    @Override
    public int hashCode() {
        return type * 31 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "Ext(" + type + ", " + data.length + " bytes)";
    }
}
