package wrun;

import java.util.List;

/**
 * A wrun job: its driver, and (as static fields of the class) its tasks and
 * actor classes.
 *
 * <p>{@code runtimes/java/build.sh} finds the one class of the sources that
 * implements Job (it needs a public no-argument constructor). Every instance
 * of the component constructs it once, which initializes the class, and with
 * it the {@link Wrun#task} and {@link Wrun#actor} registrations in its static
 * fields, before the host asks it to run the driver, a task or an actor.
 */
public interface Job {
    /**
     * The driver: runs with the arguments of {@code wrun submit}. The value it
     * returns (anything {@link Codec} encodes) is the job's result, printed by
     * {@code wrun submit}.
     */
    Object main(List<String> args) throws Exception;
}
