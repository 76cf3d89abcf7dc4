package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@code deploy/prometheus/alerts.yaml} as Prometheus loads it ({@code promtool check rules}), and each alert firing
 * when, and only when, its situation lasts ({@code promtool test rules} on {@code alerts.test.yaml}).
 */
class AlertRulesTest {
    private static final Path DIR = Path.of(System.getProperty("pagepool.root", "..")).toAbsolutePath().normalize()
        .resolve("deploy/prometheus");

    @Test
    void prometheusAcceptsTheRules() throws Exception {
        Tool check = Tool.run(60, "promtool", "check", "rules", DIR.resolve("alerts.yaml").toString()).ok();
        assertTrue(check.output().contains("SUCCESS: 5 rules found"), check.output());
    }

    @Test
    void eachAlertFiresOnlyWhenItsSituationLasts() throws Exception {
        Tool.run(60, "promtool", "test", "rules", DIR.resolve("alerts.test.yaml").toString()).ok();
    }
}
