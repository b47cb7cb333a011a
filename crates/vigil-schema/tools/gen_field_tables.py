#!/usr/bin/env python3
"""Regenerates Vigil's field-type tables (name<TAB>type) from public schema definitions.

Only facts are taken: field names and their mapping types.

  ecs.tsv        <- elastic/ecs generated/csv/fields.csv (pass the path of that file)
  azure.tsv      <- the Azure activitylogs integration fields.yml and base-fields.yml (same folder)
  endpoint.tsv   <- the Elastic Defend process data-stream fields.yml (../shared/samples/...)

Usage: gen_field_tables.py ECS_FIELDS_CSV AZURE_FIELDS_YML ENDPOINT_FIELDS_YML
"""
import csv
import sys

import yaml  # PyYAML


def flatten(fields, prefix=""):
    for f in fields:
        name = f["name"] if not prefix else f"{prefix}.{f['name']}"
        t = f.get("type", "keyword" if "fields" not in f else "group")
        if "fields" in f and t in ("group", "object", "nested"):
            if t != "group":
                yield name, t
            yield from flatten(f["fields"], name)
        elif f.get("external"):
            continue
        else:
            yield name, t


def write(path, header, rows):
    with open(path, "w") as out:
        out.write(header)
        for name, t in sorted(set(rows)):
            out.write(f"{name}\t{t}\n")


def main(ecs_csv, azure_yml, endpoint_yml):
    with open(ecs_csv, newline="") as f:
        rows = [(r["Field"], r["Type"]) for r in csv.DictReader(f) if r["Field"] and r["Type"]]
    version = rows and open(ecs_csv).readline()  # header only; version is in column 0 of rows
    with open(ecs_csv, newline="") as f:
        version = next(csv.DictReader(f))["ECS_Version"]
    write("data/ecs.tsv", f"# ECS {version} field types (generated/csv/fields.csv)\n", rows)
    base_yml = azure_yml.replace("fields.yml", "base-fields.yml").replace("@01087ab4", "@3114535b")
    azure = list(flatten(yaml.safe_load(open(azure_yml)))) + list(flatten(yaml.safe_load(open(base_yml))))
    write("data/azure.tsv", "# Azure activitylogs integration field types (fields.yml, base-fields.yml)\n", azure)
    write("data/endpoint.tsv", "# Elastic Defend process data stream field types (fields.yml)\n",
          flatten(yaml.safe_load(open(endpoint_yml))))


if __name__ == "__main__":
    main(*sys.argv[1:4])
