package wrun;

/**
 * The shapes of functions wrun calls: tasks and actor constructors
 * ({@code F0}..{@code F6}: arguments, then the result) and actor methods
 * ({@code M0}..{@code M5}: the actor's state, then the arguments). They may
 * throw any exception; it reaches the caller as an application error.
 * Method references fit them: {@code Hello::hello}, {@code Counter::new},
 * {@code Counter::incr}.
 */
public final class Fn {
    private Fn() {
    }

    @FunctionalInterface
    public interface F0<R> {
        R apply() throws Exception;
    }

    @FunctionalInterface
    public interface F1<A, R> {
        R apply(A a) throws Exception;
    }

    @FunctionalInterface
    public interface F2<A, B, R> {
        R apply(A a, B b) throws Exception;
    }

    @FunctionalInterface
    public interface F3<A, B, C, R> {
        R apply(A a, B b, C c) throws Exception;
    }

    @FunctionalInterface
    public interface F4<A, B, C, D, R> {
        R apply(A a, B b, C c, D d) throws Exception;
    }

    @FunctionalInterface
    public interface F5<A, B, C, D, E, R> {
        R apply(A a, B b, C c, D d, E e) throws Exception;
    }

    @FunctionalInterface
    public interface F6<A, B, C, D, E, F, R> {
        R apply(A a, B b, C c, D d, E e, F f) throws Exception;
    }

    @FunctionalInterface
    public interface M0<S, R> {
        R apply(S self) throws Exception;
    }

    @FunctionalInterface
    public interface M1<S, A, R> {
        R apply(S self, A a) throws Exception;
    }

    @FunctionalInterface
    public interface M2<S, A, B, R> {
        R apply(S self, A a, B b) throws Exception;
    }

    @FunctionalInterface
    public interface M3<S, A, B, C, R> {
        R apply(S self, A a, B b, C c) throws Exception;
    }

    @FunctionalInterface
    public interface M4<S, A, B, C, D, R> {
        R apply(S self, A a, B b, C c, D d) throws Exception;
    }

    @FunctionalInterface
    public interface M5<S, A, B, C, D, E, R> {
        R apply(S self, A a, B b, C c, D d, E e) throws Exception;
    }
}
