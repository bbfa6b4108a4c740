package wrun.internal;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The job's tasks and actor classes by name (SDK-internal): filled by
 * {@link wrun.Wrun#task} and {@link wrun.Wrun#actor} while the job class
 * initializes, read by {@link Guest} when the host runs one.
 */
public final class Registry {
    private Registry() {
    }

    /** Calls a task or constructor with decoded arguments. */
    public interface Invoker {
        Object invoke(Object[] args) throws Exception;
    }

    /** Calls a method on an actor's state with decoded arguments. */
    public interface MethodInvoker {
        Object invoke(Object self, Object[] args) throws Exception;
    }

    public static final class TaskDef {
        public final String name;
        public final int arity;
        public final int numReturns;
        public final Invoker invoker;

        TaskDef(String name, int arity, int numReturns, Invoker invoker) {
            this.name = name;
            this.arity = arity;
            this.numReturns = numReturns;
            this.invoker = invoker;
        }
    }

    public static final class MethodDef {
        public final String name;
        public final int arity;
        public final int numReturns;
        public final MethodInvoker invoker;

        MethodDef(String name, int arity, int numReturns, MethodInvoker invoker) {
            this.name = name;
            this.arity = arity;
            this.numReturns = numReturns;
            this.invoker = invoker;
        }
    }

    public static final class ClassDef {
        public final String name;
        public final int arity;
        public final Invoker constructor;
        final Map<String, MethodDef> methods = new LinkedHashMap<>();

        ClassDef(String name, int arity, Invoker constructor) {
            this.name = name;
            this.arity = arity;
            this.constructor = constructor;
        }

        /** Registers a method; its name must be new in the class. */
        public MethodDef method(String name, int arity, int numReturns, MethodInvoker invoker) {
            checkName("method", name);
            if (methods.containsKey(name)) {
                throw new IllegalArgumentException("two methods named '" + name + "' in actor class " + this.name);
            }
            MethodDef m = new MethodDef(name, arity, numReturns, invoker);
            methods.put(name, m);
            return m;
        }

        public MethodDef method(String name) {
            return methods.get(name);
        }
    }

    private static final Map<String, TaskDef> TASKS = new HashMap<>();
    private static final Map<String, ClassDef> CLASSES = new HashMap<>();

    private static void checkName(String what, String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a " + what + " needs a name");
        }
    }

    public static TaskDef task(String name, int arity, int numReturns, Invoker invoker) {
        checkName("task", name);
        if (TASKS.containsKey(name)) {
            throw new IllegalArgumentException("two tasks named '" + name + "': names must be unique in a job");
        }
        TaskDef t = new TaskDef(name, arity, numReturns, invoker);
        TASKS.put(name, t);
        return t;
    }

    public static ClassDef actorClass(String name, int arity, Invoker constructor) {
        checkName("actor class", name);
        if (CLASSES.containsKey(name)) {
            throw new IllegalArgumentException("two actor classes named '" + name
                    + "': names must be unique in a job");
        }
        ClassDef c = new ClassDef(name, arity, constructor);
        CLASSES.put(name, c);
        return c;
    }

    public static TaskDef task(String name) {
        return TASKS.get(name);
    }

    public static ClassDef actorClass(String name) {
        return CLASSES.get(name);
    }
}
