"""Evaluates each expression of a corpus with ansible-core's own Templar.

Usage: python ansible_eval.py VARS.json CORPUS.txt
Prints one JSON object per expression: {"ok": value} or {"error": text}.
Used by tests/tier1/filters_differential.rs.
"""
import json
import sys

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template


def main():
    with open(sys.argv[1]) as f:
        variables = json.load(f)
    templar = Templar(loader=DataLoader(), variables=variables)
    with open(sys.argv[2]) as f:
        for line in f:
            expr = line.strip()
            if not expr or expr.startswith('#'):
                continue
            try:
                value = templar.template(trust_as_template('{{ ' + expr + ' }}'))
                print(json.dumps({'ok': value}))
            except Exception as ex:  # any failure is an expected outcome to compare
                print(json.dumps({'error': f'{type(ex).__name__}: {ex}'}))


main()
