package dev.tunnelwire.cli;

import java.util.Locale;
import java.util.Set;

/** Configures slf4j-simple before the first logger is created. */
final class Logging {

    private static final Set<String> LEVELS = Set.of("trace", "debug", "info", "warn", "error", "off");

    private Logging() {
    }

    static void configure(String level) {
        String l = level.toLowerCase(Locale.ROOT);
        if (!LEVELS.contains(l)) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(new Main()),
                    "invalid log level '" + level + "'; use one of " + LEVELS);
        }
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", l);
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSX");
        System.setProperty("org.slf4j.simpleLogger.showShortLogName", "true");
        // Netty is chatty at debug; keep it at the chosen level but never below info unless trace was asked for.
        if (!l.equals("trace")) {
            System.setProperty("org.slf4j.simpleLogger.log.io.netty", l.equals("debug") ? "info" : l);
            // HTTP/2 frames still in flight after a stream was reset are normal; Netty logs each at INFO
            // ("ignoring DATA frame for stream N RST_STREAM sent"), hundreds per busy connection
            if (!l.equals("debug")) {
                System.setProperty("org.slf4j.simpleLogger.log.io.netty.handler.codec.http2.DefaultHttp2ConnectionDecoder",
                        l.equals("info") ? "warn" : l);
            }
        }
    }
}
