package dev.pagepool.agent.host;

import io.vertx.core.json.JsonObject;

/**
 * One of the agent's precautions against the memory shortage it serves: whether it holds, what holds or why it does
 * not, and what an operator does about it.
 */
public record Safeguard(String name, boolean held, String detail, String remedy) {
    static Safeguard holds(String name, String detail) {
        return new Safeguard(name, true, detail, "");
    }

    static Safeguard missing(String name, String why, String remedy) {
        return new Safeguard(name, false, why, remedy);
    }

    /** The log's line. */
    public String line() {
        return held ? name + ": " + detail : name + ": NOT HELD: " + detail + "; to fix: " + remedy;
    }

    JsonObject toJson() {
        JsonObject json = new JsonObject().put("held", held).put("detail", detail);
        return held ? json : json.put("remedy", remedy);
    }
}
