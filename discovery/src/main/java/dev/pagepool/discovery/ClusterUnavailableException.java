package dev.pagepool.discovery;

/** No member of the pagepool cluster could be reached in the time allowed. */
public class ClusterUnavailableException extends RuntimeException {
    public ClusterUnavailableException(String message) {
        super(message);
    }
}
