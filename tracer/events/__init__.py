"""The log: a magic string, a format version, then a stream of msgpack records."""
