"""Writes proto/tensorflow_metadata/proto/v0/*.proto: the messages of
tensorflow-metadata that skewer reads and writes, from the descriptors of
the `tensorflow-metadata` pip package itself, so that every message, field
name, number, type, label, default and enum value is the published one.

    python -m venv /tmp/tfmd && /tmp/tfmd/bin/pip install tensorflow-metadata==1.21.0
    /tmp/tfmd/bin/python proto/gen.py

statistics.proto is a subset (what `skewer export --to tfdv` writes, plus
the weighted statistics that a weighted profile will fill): cross-feature,
custom and natural-language statistics are left out. schema.proto,
anomalies.proto and their imports are whole, so that any schema TFDV
writes parses on import and what skewer cannot use is reported by name.
tests/it/tfdv.rs checks the compiled descriptors against the package's.
"""
import os
import sys

from google.protobuf import descriptor_pb2 as D
from tensorflow_metadata.proto.v0 import (anomalies_pb2, derived_feature_pb2,
                                          path_pb2, schema_pb2, statistics_pb2)

# Message -> fields left out (statistics only).
DROP = {
    "DatasetFeatureStatistics": {"cross_features"},
    "FeatureNameStatistics": {"custom_stats", "validation_derived_source"},
    "CommonStatistics": {"presence_and_valency_stats",
                         "weighted_presence_and_valency_stats"},
}
# Messages of statistics.proto kept (with what they reference).
STATS_ROOTS = ["DatasetFeatureStatisticsList"]

TYPES = {v: k[5:].lower() for k, v in D.FieldDescriptorProto.Type.items()}
LABELS = {1: "optional", 2: "required", 3: "repeated"}


def field(f, proto3, ind, maps={}):
    if f.type_name in maps:
        k, v = maps[f.type_name]
        return f"{ind}map<{k}, {v}> {f.name} = {f.number};\n"
    t = f.type_name.lstrip(".").replace("tensorflow.metadata.v0.", "") \
        if f.type_name else TYPES[f.type]
    if f.type_name.startswith(".google"):
        t = f.type_name.lstrip(".")
    if f.HasField("oneof_index") and not f.proto3_optional:
        label = ""
    elif proto3:
        label = "optional " if f.proto3_optional else \
            ("repeated " if f.label == 3 else "")
    else:
        label = LABELS[f.label] + " "
    opts = []
    if f.HasField("default_value"):
        v = f.default_value
        opts.append(f"default = {v!r}".replace("'", '"') if f.type == 9 else f"default = {v}")
    if f.options.deprecated:
        opts.append("deprecated = true")
    if f.options.HasField("packed"):
        opts.append(f"packed = {str(f.options.packed).lower()}")
    o = f" [{', '.join(opts)}]" if opts else ""
    return f"{ind}{label}{t} {f.name} = {f.number}{o};\n"


def enum(e, ind):
    s = f"{ind}enum {e.name} {{\n"
    for v in e.value:
        s += f"{ind}  {v.name} = {v.number};\n"
    return s + f"{ind}}}\n"


def short(type_name):
    return type_name.lstrip(".").replace("tensorflow.metadata.v0.", "") \
        if type_name else None


def message(m, proto3, ind="", scope=""):
    drop = DROP.get(m.name, set())
    s = f"{ind}message {m.name} {{\n"
    for e in m.enum_type:
        s += enum(e, ind + "  ")
    # Map fields: their entry messages are written as `map<K, V>`.
    maps = {}
    for n in m.nested_type:
        if n.options.map_entry:
            k, v = n.field
            maps[f".tensorflow.metadata.v0.{scope}{m.name}.{n.name}"] = (
                short(k.type_name) or TYPES[k.type], short(v.type_name) or TYPES[v.type])
            continue
        s += message(n, proto3, ind + "  ", f"{scope}{m.name}.")
    done = set()
    for f in m.field:
        if f.name in drop:
            continue
        if f.HasField("oneof_index") and not f.proto3_optional:
            i = f.oneof_index
            if i in done:
                continue
            done.add(i)
            s += f"{ind}  oneof {m.oneof_decl[i].name} {{\n"
            for g in m.field:
                if g.HasField("oneof_index") and g.oneof_index == i and g.name not in drop:
                    s += field(g, proto3, ind + "    ", maps)
            s += f"{ind}  }}\n"
        else:
            s += field(f, proto3, ind + "  ", maps)
    for r in m.reserved_range:
        s += f"{ind}  reserved {r.start}{'' if r.end == r.start + 1 else f' to {r.end - 1}'};\n"
    dropped = [m_.number for m_ in m.field if m_.name in drop]
    if dropped:
        s += f"{ind}  // Left out here: {', '.join(sorted(drop))}.\n"
    return s + f"{ind}}}\n"


def referenced(fd, roots):
    """Top-level messages of `fd` reachable from `roots`."""
    by = {m.name: m for m in fd.message_type}
    seen, todo = [], list(roots)
    while todo:
        n = todo.pop()
        if n in seen or n not in by:
            continue
        seen.append(n)
        def walk(m):
            for f in m.field:
                if f.name in DROP.get(m.name, set()):
                    continue
                if f.type_name.startswith(".tensorflow.metadata.v0."):
                    todo.append(f.type_name.split(".")[4])
            for x in m.nested_type:
                walk(x)
        walk(by[n])
    return seen


def write(mod, out, roots=None):
    fd = D.FileDescriptorProto()
    mod.DESCRIPTOR.CopyToProto(fd)
    proto3 = fd.syntax == "proto3"
    keep = referenced(fd, roots) if roots else [m.name for m in fd.message_type]
    deps = list(fd.dependency)
    if roots:
        used = "".join(message(m, proto3) for m in fd.message_type if m.name in keep)
        deps = [d for d in deps if
                ("Any" in used and d.endswith("any.proto")) or
                ("Path" in used and d.endswith("path.proto")) or
                ("DerivedFeature" in used and d.endswith("derived_feature.proto"))]
    s = ("// Generated by proto/gen.py from the tensorflow-metadata pip package's\n"
         f"// descriptors of {fd.name}: names and numbers as published.\n"
         "// Do not edit; run proto/gen.py again.\n\n")
    s += f'syntax = "{"proto3" if proto3 else "proto2"}";\n\npackage {fd.package};\n\n'
    for d in deps:
        s += f'import "{d}";\n'
    if deps:
        s += "\n"
    for e in fd.enum_type:
        s += enum(e, "") + "\n"
    for m in fd.message_type:
        if m.name in keep:
            s += message(m, proto3) + "\n"
    path = os.path.join(out, fd.name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(s.rstrip("\n") + "\n")


if __name__ == "__main__":
    out = os.path.dirname(os.path.abspath(__file__))
    write(statistics_pb2, out, STATS_ROOTS)
    for m in (schema_pb2, anomalies_pb2, path_pb2, derived_feature_pb2):
        write(m, out)
