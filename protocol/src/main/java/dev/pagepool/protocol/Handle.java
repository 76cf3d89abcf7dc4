package dev.pagepool.protocol;

/** A page address as tmem defines it: pool, object within the pool, page index within the object. */
public record Handle(int pool, long object, int index) {
    @Override
    public String toString() {
        return "pool " + Integer.toUnsignedString(pool) + " object " + Long.toUnsignedString(object)
            + " index " + Integer.toUnsignedString(index);
    }
}
