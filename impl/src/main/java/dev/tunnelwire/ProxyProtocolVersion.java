package dev.tunnelwire;

/** HAProxy PROXY protocol versions a dialer can send. */
public enum ProxyProtocolVersion {
    /** Text header: {@code PROXY TCP4 src dst sport dport\r\n}. */
    V1,
    /** Binary header starting with {@code 0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A}. */
    V2
}
