package wrun;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import wrun.internal.Host;
import wrun.internal.Registry;
import wrun.internal.Types;

/**
 * The wrun API: register tasks and actor classes, and use objects, actors,
 * logs and the runtime context. Modelled on Ray's Java API.
 *
 * <pre>{@code
 * public final class App implements Job {
 *     static final Task1<Long, Long> SQUARE = Wrun.task("square", App::square);
 *
 *     static long square(long x) {
 *         return x * x;
 *     }
 *
 *     public Object main(List<String> args) {
 *         List<ObjectRef<Long>> refs = new ArrayList<>();
 *         for (long i = 0; i < 10; i++) {
 *             refs.add(SQUARE.remote(i));
 *         }
 *         return Wrun.get(refs).stream().mapToLong(Long::longValue).sum();
 *     }
 * }
 * }</pre>
 *
 * <p>Tasks and actor classes are registered by name while the job class
 * initializes (declare them as static fields of the {@link Job} class); the
 * host finds them by that name, so names must be unique in a job. By
 * convention a task is named after its Java method and an actor class after
 * its Java class, as the Rust and Python SDKs name them.
 *
 * <p>Values cross as MessagePack (see {@link Codec}): integers decode as
 * {@code Long}, floats as {@code Double}, lists as {@code List}, maps as
 * {@code Map}. The SDK checks each argument against the parameter types the
 * build reads from the job's bytecode and converts integers and floats where
 * no value changes (so {@code int} parameters work); a value that does not
 * fit is an {@code invalid-argument} error. Elements of lists and maps are
 * not converted: declare {@code List<Long>}, not {@code List<Integer>}.
 */
public final class Wrun {
    private Wrun() {
    }

    // --- tasks -------------------------------------------------------------------

    /** Registers a task of 0 arguments named {@code name}; see {@link #task(String, TaskOptions, Fn.F0)}. */
    public static <R> Task0<R> task(String name, Fn.F0<R> f) {
        return task(name, TaskOptions.DEFAULT, f);
    }

    /** Registers a task of 0 arguments with default options. */
    @SuppressWarnings("unchecked")
    public static <R> Task0<R> task(String name, TaskOptions defaults, Fn.F0<R> f) {
        Registry.task(name, 0, defaults.numReturns(), a -> f.apply());
        return new Task0<>(name, defaults);
    }

    /** Registers a task of 1 argument named {@code name}; see {@link #task(String, TaskOptions, Fn.F0)}. */
    public static <A, R> Task1<A, R> task(String name, Fn.F1<A, R> f) {
        return task(name, TaskOptions.DEFAULT, f);
    }

    /** Registers a task of 1 argument with default options. */
    @SuppressWarnings("unchecked")
    public static <A, R> Task1<A, R> task(String name, TaskOptions defaults, Fn.F1<A, R> f) {
        Registry.task(name, 1, defaults.numReturns(), a -> f.apply((A) a[0]));
        return new Task1<>(name, defaults);
    }

    /** Registers a task of 2 arguments named {@code name}; see {@link #task(String, TaskOptions, Fn.F0)}. */
    public static <A, B, R> Task2<A, B, R> task(String name, Fn.F2<A, B, R> f) {
        return task(name, TaskOptions.DEFAULT, f);
    }

    /** Registers a task of 2 arguments with default options. */
    @SuppressWarnings("unchecked")
    public static <A, B, R> Task2<A, B, R> task(String name, TaskOptions defaults, Fn.F2<A, B, R> f) {
        Registry.task(name, 2, defaults.numReturns(), a -> f.apply((A) a[0], (B) a[1]));
        return new Task2<>(name, defaults);
    }

    /** Registers a task of 3 arguments named {@code name}; see {@link #task(String, TaskOptions, Fn.F0)}. */
    public static <A, B, C, R> Task3<A, B, C, R> task(String name, Fn.F3<A, B, C, R> f) {
        return task(name, TaskOptions.DEFAULT, f);
    }

    /** Registers a task of 3 arguments with default options. */
    @SuppressWarnings("unchecked")
    public static <A, B, C, R> Task3<A, B, C, R> task(String name, TaskOptions defaults, Fn.F3<A, B, C, R> f) {
        Registry.task(name, 3, defaults.numReturns(), a -> f.apply((A) a[0], (B) a[1], (C) a[2]));
        return new Task3<>(name, defaults);
    }

    /** Registers a task of 4 arguments named {@code name}; see {@link #task(String, TaskOptions, Fn.F0)}. */
    public static <A, B, C, D, R> Task4<A, B, C, D, R> task(String name, Fn.F4<A, B, C, D, R> f) {
        return task(name, TaskOptions.DEFAULT, f);
    }

    /** Registers a task of 4 arguments with default options. */
    @SuppressWarnings("unchecked")
    public static <A, B, C, D, R> Task4<A, B, C, D, R> task(String name, TaskOptions defaults, Fn.F4<A, B, C, D, R> f) {
        Registry.task(name, 4, defaults.numReturns(), a -> f.apply((A) a[0], (B) a[1], (C) a[2], (D) a[3]));
        return new Task4<>(name, defaults);
    }

    /** Registers a task of 5 arguments named {@code name}; see {@link #task(String, TaskOptions, Fn.F0)}. */
    public static <A, B, C, D, E, R> Task5<A, B, C, D, E, R> task(String name, Fn.F5<A, B, C, D, E, R> f) {
        return task(name, TaskOptions.DEFAULT, f);
    }

    /** Registers a task of 5 arguments with default options. */
    @SuppressWarnings("unchecked")
    public static <A, B, C, D, E, R> Task5<A, B, C, D, E, R> task(String name, TaskOptions defaults, Fn.F5<A, B, C, D, E, R> f) {
        Registry.task(name, 5, defaults.numReturns(), a -> f.apply((A) a[0], (B) a[1], (C) a[2], (D) a[3], (E) a[4]));
        return new Task5<>(name, defaults);
    }

    /** Registers a task of 6 arguments named {@code name}; see {@link #task(String, TaskOptions, Fn.F0)}. */
    public static <A, B, C, D, E, F, R> Task6<A, B, C, D, E, F, R> task(String name, Fn.F6<A, B, C, D, E, F, R> f) {
        return task(name, TaskOptions.DEFAULT, f);
    }

    /** Registers a task of 6 arguments with default options. */
    @SuppressWarnings("unchecked")
    public static <A, B, C, D, E, F, R> Task6<A, B, C, D, E, F, R> task(String name, TaskOptions defaults, Fn.F6<A, B, C, D, E, F, R> f) {
        Registry.task(name, 6, defaults.numReturns(), a -> f.apply((A) a[0], (B) a[1], (C) a[2], (D) a[3], (E) a[4], (F) a[5]));
        return new Task6<>(name, defaults);
    }

    /**
     * A task by name, in any language: {@code "COMPONENT/NAME"} for one of
     * another component of the job ({@code wrun submit --component
     * COMPONENT=FILE.wasm}), or {@code "NAME"} for one of this component.
     * {@code Wrun.function("cpp/shard_stats").remote(xs)} submits it like a
     * registered task. Ray's counterpart is
     * {@code Ray.task(PyFunction.of(...))}.
     */
    public static <R> NamedTask<R> function(String name) {
        return new NamedTask<>(name, TaskOptions.DEFAULT, null);
    }

    // --- actors ------------------------------------------------------------------

    /**
     * An actor class by name, in any language ({@code "COMPONENT/NAME"} or
     * {@code "NAME"}, as for {@link #function}):
     * {@code Wrun.actorClass("rust/Tally").name("tally").remote()} creates one
     * and returns its handle, whose methods are called by name
     * ({@code handle.call("add_all", refs)}).
     */
    public static <S> NamedActorClass<S> actorClass(String name) {
        return new NamedActorClass<>(name, ActorOptions.DEFAULT);
    }

    /** Registers an actor class whose constructor takes 0 arguments; see {@link #actor(String, ActorOptions, Fn.F0)}. */
    public static <S> ActorClass0<S> actor(String name, Fn.F0<S> constructor) {
        return actor(name, ActorOptions.DEFAULT, constructor);
    }

    /** Registers an actor class whose constructor takes 0 arguments, with default options. */
    @SuppressWarnings("unchecked")
    public static <S> ActorClass0<S> actor(String name, ActorOptions defaults, Fn.F0<S> constructor) {
        Registry.ClassDef def = Registry.actorClass(name, 0, a -> constructor.apply());
        return new ActorClass0<>(def, defaults);
    }

    /** Registers an actor class whose constructor takes 1 argument; see {@link #actor(String, ActorOptions, Fn.F0)}. */
    public static <A, S> ActorClass1<A, S> actor(String name, Fn.F1<A, S> constructor) {
        return actor(name, ActorOptions.DEFAULT, constructor);
    }

    /** Registers an actor class whose constructor takes 1 argument, with default options. */
    @SuppressWarnings("unchecked")
    public static <A, S> ActorClass1<A, S> actor(String name, ActorOptions defaults, Fn.F1<A, S> constructor) {
        Registry.ClassDef def = Registry.actorClass(name, 1, a -> constructor.apply((A) a[0]));
        return new ActorClass1<>(def, defaults);
    }

    /** Registers an actor class whose constructor takes 2 arguments; see {@link #actor(String, ActorOptions, Fn.F0)}. */
    public static <A, B, S> ActorClass2<A, B, S> actor(String name, Fn.F2<A, B, S> constructor) {
        return actor(name, ActorOptions.DEFAULT, constructor);
    }

    /** Registers an actor class whose constructor takes 2 arguments, with default options. */
    @SuppressWarnings("unchecked")
    public static <A, B, S> ActorClass2<A, B, S> actor(String name, ActorOptions defaults, Fn.F2<A, B, S> constructor) {
        Registry.ClassDef def = Registry.actorClass(name, 2, a -> constructor.apply((A) a[0], (B) a[1]));
        return new ActorClass2<>(def, defaults);
    }

    /** Registers an actor class whose constructor takes 3 arguments; see {@link #actor(String, ActorOptions, Fn.F0)}. */
    public static <A, B, C, S> ActorClass3<A, B, C, S> actor(String name, Fn.F3<A, B, C, S> constructor) {
        return actor(name, ActorOptions.DEFAULT, constructor);
    }

    /** Registers an actor class whose constructor takes 3 arguments, with default options. */
    @SuppressWarnings("unchecked")
    public static <A, B, C, S> ActorClass3<A, B, C, S> actor(String name, ActorOptions defaults, Fn.F3<A, B, C, S> constructor) {
        Registry.ClassDef def = Registry.actorClass(name, 3, a -> constructor.apply((A) a[0], (B) a[1], (C) a[2]));
        return new ActorClass3<>(def, defaults);
    }

    /** Registers an actor class whose constructor takes 4 arguments; see {@link #actor(String, ActorOptions, Fn.F0)}. */
    public static <A, B, C, D, S> ActorClass4<A, B, C, D, S> actor(String name, Fn.F4<A, B, C, D, S> constructor) {
        return actor(name, ActorOptions.DEFAULT, constructor);
    }

    /** Registers an actor class whose constructor takes 4 arguments, with default options. */
    @SuppressWarnings("unchecked")
    public static <A, B, C, D, S> ActorClass4<A, B, C, D, S> actor(String name, ActorOptions defaults, Fn.F4<A, B, C, D, S> constructor) {
        Registry.ClassDef def = Registry.actorClass(name, 4, a -> constructor.apply((A) a[0], (B) a[1], (C) a[2], (D) a[3]));
        return new ActorClass4<>(def, defaults);
    }

    /**
     * The actor registered as {@code name} in the job's namespace, if there is
     * one. The handle's state type is unchecked.
     */
    public static <S> Optional<ActorHandle<S>> getActor(String name) {
        return getActor(name, null);
    }

    /** The actor registered as {@code name} in {@code namespace} (the job's when null). */
    public static <S> Optional<ActorHandle<S>> getActor(String name, String namespace) {
        Id id = Host.get().lookup(name, namespace);
        return id == null ? Optional.empty() : Optional.of(new ActorHandle<>(id));
    }

    /**
     * Cancels the call that produces {@code ref}, as Ray's {@code ray.cancel}: a task that has not started
     * never runs; a running one is interrupted (running its own code, at its next epoch tick; blocked in a
     * get, which throws {@link WrunException.TaskCancelledException} so it may clean up and return);
     * {@code force} drops its instance at once. Its results, and calls waiting on them, then fail with
     * {@link WrunException.TaskCancelledException}; it is never retried. {@code recursive} also cancels the
     * tasks it submitted. A finished call is left alone. An actor method is cancelled only while it waits in
     * the actor's queue; {@code force} on one is refused.
     */
    public static void cancel(ObjectRef<?> ref, boolean force, boolean recursive) {
        Host.get().cancel(ref.handle(), force, recursive);
    }

    /**
     * Yields one item of the streaming task or method running now ({@code remoteStreaming}): stored at once
     * and readable by its caller while the call goes on; what the task returns is dropped. A
     * {@link WrunException} of kind {@code INVALID_ARGUMENT} outside a streaming call.
     */
    public static void yieldItem(Object item) {
        Host.get().yieldItem(item);
    }

    /** {@link #cancel(ObjectRef, boolean, boolean)} unforced, with the tasks it submitted. */
    public static void cancel(ObjectRef<?> ref) {
        cancel(ref, false, true);
    }

    /** Kills the actor: pending and later calls fail with {@link WrunException.ActorDiedException}. */
    public static void kill(ActorHandle<?> actor) {
        Host.get().kill(actor.actorId());
    }

    /**
     * Ray's {@code kill(actor, no_restart)}: with {@code noRestart} false only the actor's instance is killed
     * (its running call fails with {@link WrunException.ActorDiedException}, queued calls run on the new
     * instance) and it restarts while {@code maxRestarts} allows; with none left it dies.
     */
    public static void kill(ActorHandle<?> actor, boolean noRestart) {
        if (noRestart) {
            kill(actor);
        } else {
            Host.get().restart(actor.actorId());
        }
    }

    /**
     * Ends the actor whose method calls it once that method returns (Ray's {@code exit_actor}): that call,
     * its queued calls and later ones fail with {@link WrunException.ActorDiedException}; it does not
     * restart. Clean up before calling it. Outside an actor's method it throws (invalid-argument).
     */
    public static void exitActor() {
        Host.get().exitActor();
    }

    // --- objects -----------------------------------------------------------------

    /**
     * Stores {@code value} in the object store and returns a reference to it,
     * e.g. to pass one large value to many tasks: it is stored once.
     */
    @SuppressWarnings("unchecked")
    public static <T> ObjectRef<T> put(T value) {
        return (ObjectRef<T>) (ObjectRef<?>) Host.get().put(value);
    }

    /**
     * Waits for the object and returns its value. A failed task's error is
     * thrown as the {@link WrunException} it reported. A guest blocked here
     * holds no host thread and gives its CPU back.
     */
    public static <T> T get(ObjectRef<T> ref) {
        return get(List.of(ref), -1).get(0);
    }

    /** Like {@link #get(ObjectRef)}, failing with {@link WrunException.GetTimeoutException} after {@code timeoutMs}. */
    public static <T> T get(ObjectRef<T> ref, long timeoutMs) {
        return get(List.of(ref), timeoutMs).get(0);
    }

    /** Waits for all the objects; returns their values in order. */
    public static <T> List<T> get(List<ObjectRef<T>> refs) {
        return get(refs, -1);
    }

    /** Like {@link #get(List)}, failing with {@link WrunException.GetTimeoutException} after {@code timeoutMs} (-1: none). */
    @SuppressWarnings("unchecked")
    public static <T> List<T> get(List<ObjectRef<T>> refs, long timeoutMs) {
        if (refs.isEmpty()) {
            return new ArrayList<>();
        }
        List<Object> values = Host.get().get(refs, timeoutMs);
        for (int i = 0; i < values.size(); i++) {
            ObjectRef<T> r = refs.get(i);
            if (r.expected != null) {
                try {
                    values.set(i, Types.fit(values.get(i), r.expected, false));
                } catch (IllegalArgumentException e) {
                    throw new WrunException(ErrorKind.INVALID_ARGUMENT, r.origin,
                            "result of " + r.origin + ": " + e.getMessage());
                }
            }
        }
        return (List<T>) values;
    }

    /**
     * Waits until {@code numReturns} of {@code refs} are ready or
     * {@code timeoutMs} passes (-1: no limit); splits them into ready and
     * pending, each in the order of {@code refs}. As in Ray, at most
     * {@code numReturns} are reported ready, and an object another node owns
     * is ready once it is here (waiting pulls it, Ray's {@code fetch_local=True}).
     */
    public static <T> WaitResult<T> wait(List<ObjectRef<T>> refs, int numReturns, long timeoutMs) {
        return wait(refs, numReturns, timeoutMs, true);
    }

    /**
     * {@link #wait(List, int, long)}; with {@code fetchLocal} false an object another node owns is ready once
     * its owner has it, and it is not pulled (Ray's {@code fetch_local=False}).
     */
    public static <T> WaitResult<T> wait(List<ObjectRef<T>> refs, int numReturns, long timeoutMs,
            boolean fetchLocal) {
        if (numReturns < 0 || numReturns > refs.size()) {
            throw new IllegalArgumentException("numReturns=" + numReturns + " with " + refs.size() + " references");
        }
        List<ObjectRef<T>> ready = new ArrayList<>();
        List<ObjectRef<T>> pending = new ArrayList<>();
        if (refs.isEmpty()) {
            return new WaitResult<>(ready, pending);
        }
        boolean[] flags = Host.get().wait(refs, numReturns, timeoutMs, fetchLocal);
        for (int i = 0; i < refs.size(); i++) {
            if (flags[i] && ready.size() < numReturns) {
                ready.add(refs.get(i));
            } else {
                pending.add(refs.get(i));
            }
        }
        return new WaitResult<>(ready, pending);
    }

    /** {@code wait(refs, 1, -1)}: waits until one of them is ready. */
    public static <T> WaitResult<T> wait(List<ObjectRef<T>> refs) {
        return wait(refs, Math.min(1, refs.size()), -1);
    }

    // --- logs and context --------------------------------------------------------

    /** Log levels of {@link #log(LogLevel, String)}. */
    public enum LogLevel { TRACE, DEBUG, INFO, WARN, ERROR }

    /** Sends {@code message} to the user's log stream at level info, prefixed by the task. */
    public static void log(String message) {
        log(LogLevel.INFO, message);
    }

    /** Sends {@code message} to the user's log stream, prefixed by the task. */
    public static void log(LogLevel level, String message) {
        Host.get().log(level.ordinal(), String.valueOf(message));
    }

    /**
     * Blocks for {@code ms} milliseconds (wall-clock, or the deterministic
     * clock the environment gives). {@code Thread.sleep} is not available:
     * TeaVM-WASI implements it with a JavaScript event loop.
     */
    public static void sleep(long ms) {
        Host.get().sleep(ms);
    }

    /** Who and where the caller is (Ray: {@code Ray.getRuntimeContext()}). */
    public static RuntimeContext context() {
        return RuntimeContext.INSTANCE;
    }
}
