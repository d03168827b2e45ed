package dev.tunnelwire.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A YAML or JSON document read into a tree that remembers where every value was written, so that every error names
 * the field's path ({@code services[0].listener.streamSettings.wsSettings.foo}) and its position
 * ({@code line:column}, 1-based, from Jackson's {@link JsonLocation} for both formats).
 *
 * <p>Reading is strict the way the peers' Go decoders are for JSON: an object field must be read through one of
 * {@link Obj}'s typed accessors, which also check the value's type; {@link Obj#end()} then fails on every field that
 * no accessor asked for. Duplicate keys are errors.
 */
final class ConfigTree {

    private ConfigTree() {
    }

    /** An error in a config file: {@code <source>:<line>:<column>: <path>: <message>}. */
    static final class ConfigException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        ConfigException(Value at, String message) {
            this(at, false, message);
        }

        /** At the value, or at its field name ({@code atKey}, for unknown and unsupported fields). */
        ConfigException(Value at, boolean atKey, String message) {
            super(at.where(atKey) + ": " + at.path + ": " + message);
        }

        ConfigException(String source, JsonLocation loc, String message) {
            super(source + ":" + loc.getLineNr() + ":" + loc.getColumnNr() + ": " + message);
        }
    }

    /** Reads a whole document; {@code json} selects the JSON parser (else YAML, which also reads JSON). */
    static Obj read(Reader in, boolean json, String source) throws IOException {
        JsonFactory f = json ? new JsonFactory() : new YAMLFactory();
        try (JsonParser p = f.createParser(in)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw new ConfigException(source, p.currentLocation(), "empty document");
            }
            Value root = value(p, source, "");
            if (!(root instanceof Obj o)) {
                throw new ConfigException(root, "the document must be an object (a map), found " + root.kind());
            }
            if (p.nextToken() != null) {
                throw new ConfigException(source, p.currentTokenLocation(), "unexpected content after the document");
            }
            return o;
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            String msg = e.getOriginalMessage();
            throw loc == null ? new IllegalArgumentException(source + ": " + msg)
                    : new ConfigException(source, loc, msg);
        }
    }

    private static Value value(JsonParser p, String source, String path) throws IOException {
        JsonLocation loc = p.currentTokenLocation();
        JsonToken t = p.currentToken();
        switch (t) {
            case START_OBJECT -> {
                Obj o = new Obj(source, path, loc);
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    JsonLocation at = p.currentTokenLocation();
                    String child = path.isEmpty() ? name : path + "." + name;
                    if (o.fields.containsKey(name)) {
                        throw new ConfigException(source, at, child + ": duplicate field");
                    }
                    p.nextToken();
                    Value v = value(p, source, child);
                    v.keyLoc = at;
                    o.fields.put(name, v);
                }
                return o;
            }
            case START_ARRAY -> {
                Arr a = new Arr(source, path, loc);
                int i = 0;
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    a.items.add(value(p, source, path + "[" + i++ + "]"));
                }
                return a;
            }
            case VALUE_STRING, VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE, VALUE_NULL -> {
                return new Scalar(source, path, loc, t, t == JsonToken.VALUE_NULL ? null : p.getText());
            }
            default -> throw new ConfigException(source, loc, path + ": unexpected " + t);
        }
    }

    /** A value with its path and position. */
    abstract static sealed class Value permits Obj, Arr, Scalar {
        final String source;
        final String path;
        final JsonLocation loc;
        /** Where the field name was written, for values of object fields. */
        JsonLocation keyLoc;

        Value(String source, String path, JsonLocation loc) {
            this.source = source;
            this.path = path.isEmpty() ? "(document)" : path;
            this.loc = loc;
        }

        String where(boolean atKey) {
            JsonLocation l = atKey && keyLoc != null ? keyLoc : loc;
            return source + ":" + l.getLineNr() + ":" + l.getColumnNr();
        }

        abstract String kind();

        /** An error at the value. */
        ConfigException error(String message) {
            return new ConfigException(this, message);
        }

        /** An error at the field name of the value (where the value has one). */
        ConfigException keyError(String message) {
            return new ConfigException(this, true, message);
        }
    }

    /** A scalar: string, number, boolean or null, as written. */
    static final class Scalar extends Value {
        final JsonToken token;
        final String text;

        Scalar(String source, String path, JsonLocation loc, JsonToken token, String text) {
            super(source, path, loc);
            this.token = token;
            this.text = text;
        }

        @Override
        String kind() {
            return switch (token) {
                case VALUE_STRING -> "a string";
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
                case VALUE_TRUE, VALUE_FALSE -> "a boolean";
                default -> "null";
            };
        }

        boolean isNull() {
            return token == JsonToken.VALUE_NULL;
        }
    }

    /** A list. */
    static final class Arr extends Value {
        final List<Value> items = new ArrayList<>();

        Arr(String source, String path, JsonLocation loc) {
            super(source, path, loc);
        }

        @Override
        String kind() {
            return "a list";
        }

        /** The items, each of which must be an object. */
        List<Obj> objects() {
            List<Obj> out = new ArrayList<>();
            for (Value v : items) {
                if (!(v instanceof Obj o)) {
                    throw v.error("must be an object, found " + v.kind());
                }
                out.add(o);
            }
            return out;
        }
    }

    /** An object (map) whose fields are read through typed accessors and then checked by {@link #end()}. */
    static final class Obj extends Value {
        final Map<String, Value> fields = new LinkedHashMap<>();
        private final Set<String> known = new LinkedHashSet<>();

        Obj(String source, String path, JsonLocation loc) {
            super(source, path, loc);
        }

        @Override
        String kind() {
            return "an object";
        }

        boolean has(String key) {
            known.add(key);
            Value v = fields.get(key);
            return v != null && !(v instanceof Scalar s && s.isNull());
        }

        /** The raw value, or {@code null} when absent or written as {@code null}. */
        Value get(String key) {
            return has(key) ? fields.get(key) : null;
        }

        Set<String> keys() {
            return Collections.unmodifiableSet(fields.keySet());
        }

        /** Marks a field as known without reading it (its value is handled by the caller). */
        void accept(String key) {
            known.add(key);
        }

        /** A JSON string (strict: a number or boolean is a type error). */
        String string(String key) {
            Value v = get(key);
            if (v == null) {
                return null;
            }
            if (v instanceof Scalar s && s.token == JsonToken.VALUE_STRING) {
                return s.text;
            }
            throw v.error("must be a string, found " + v.kind());
        }

        /** Any scalar as text (YAML-friendly: {@code port: 80}, {@code nodelay: true}). */
        String text(String key) {
            Value v = get(key);
            if (v == null) {
                return null;
            }
            if (v instanceof Scalar s) {
                return s.text;
            }
            throw v.error("must be a single value, found " + v.kind());
        }

        Boolean bool(String key) {
            Value v = get(key);
            if (v == null) {
                return null;
            }
            if (v instanceof Scalar s && (s.token == JsonToken.VALUE_TRUE || s.token == JsonToken.VALUE_FALSE)) {
                return s.token == JsonToken.VALUE_TRUE;
            }
            throw v.error("must be a boolean, found " + v.kind());
        }

        boolean bool(String key, boolean dflt) {
            Boolean b = bool(key);
            return b == null ? dflt : b;
        }

        /** A whole number within {@code [min, max]}. */
        Long integer(String key, long min, long max) {
            Value v = get(key);
            if (v == null) {
                return null;
            }
            if (v instanceof Scalar s && s.token == JsonToken.VALUE_NUMBER_INT) {
                long n;
                try {
                    n = Long.parseLong(s.text);
                } catch (NumberFormatException e) {
                    throw v.error("number out of range: " + s.text);
                }
                if (n < min || n > max) {
                    throw v.error("must be in [" + min + ", " + max + "], found " + n);
                }
                return n;
            }
            throw v.error("must be a whole number, found " + v.kind());
        }

        Obj obj(String key) {
            Value v = get(key);
            if (v == null) {
                return null;
            }
            if (v instanceof Obj o) {
                return o;
            }
            throw v.error("must be an object, found " + v.kind());
        }

        Arr arr(String key) {
            Value v = get(key);
            if (v == null) {
                return null;
            }
            if (v instanceof Arr a) {
                return a;
            }
            throw v.error("must be a list, found " + v.kind());
        }

        /** A list of strings. */
        List<String> strings(String key) {
            Arr a = arr(key);
            return a == null ? null : strings(a);
        }

        /** sing-box's {@code Listable[string]}: one string or a list of strings. */
        List<String> listable(String key) {
            Value v = get(key);
            if (v == null) {
                return null;
            }
            if (v instanceof Scalar s && s.token == JsonToken.VALUE_STRING) {
                return List.of(s.text);
            }
            if (v instanceof Arr a) {
                return strings(a);
            }
            throw v.error("must be a string or a list of strings, found " + v.kind());
        }

        private static List<String> strings(Arr a) {
            List<String> out = new ArrayList<>();
            for (Value item : a.items) {
                if (item instanceof Scalar s && s.token == JsonToken.VALUE_STRING) {
                    out.add(s.text);
                } else {
                    throw item.error("must be a string, found " + item.kind());
                }
            }
            return out;
        }

        /** Fails when the field is present (with a value other than the peer's "off" value {@code inert}). */
        void unsupported(String key, String why) {
            Value v = get(key);
            if (v == null) {
                return;
            }
            if (v instanceof Scalar s && (s.token == JsonToken.VALUE_FALSE
                    || s.token == JsonToken.VALUE_STRING && s.text.isEmpty()
                    || s.token == JsonToken.VALUE_NUMBER_INT && s.text.equals("0"))) {
                return; // the peer's zero value: the feature is off
            }
            throw new ConfigException(v, true, "not supported by tunnelwire: " + why);
        }

        /** Fails on the first field no accessor asked for, listing the known ones. */
        void end() {
            for (Map.Entry<String, Value> e : fields.entrySet()) {
                if (!known.contains(e.getKey())) {
                    Value v = e.getValue();
                    throw new ConfigException(v, true, "unknown field; known fields here: "
                            + (known.isEmpty() ? "none" : String.join(", ", known)));
                }
            }
        }
    }
}
