package dev.pagepool.agent.cli;

/** A {@code HOST:PORT} option value (an IPv6 host in brackets or bare: the last colon splits). */
record HostPort(String host, int port) {
    static HostPort parse(String option, String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException(option + " must be HOST:PORT, got " + value);
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            int port = Integer.parseInt(value.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException(option + ": port must be 0..65535, got " + port);
            }
            return new HostPort(host, port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be HOST:PORT, got " + value);
        }
    }
}
