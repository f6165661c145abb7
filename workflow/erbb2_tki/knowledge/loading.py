"""Loading and validating the knowledge base: every table against its JSON Schema, then the
cross-references (drugs, classes, tumour types, residues on NP_004439.2), then the release hashes.

Why this is strict: the knowledge base is what a core reports to a tumour board, so a row that
names an unknown drug, a protein change whose reference residue disagrees with NP_004439.2
("L756S"), an unknown class or tumour type, no citation, or that repeats another row, must stop the
run with the file, the line and the field, not be skipped. A successful load is kept in memory and
in the on-disk cache (diskcache.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .. import paths
from ..diskcache import cache_dir
from ..errors import InputError
from ..naming.model import ProteinChange
from ..yamlio import load_yaml
from .files import (
    CLASSES_FILE,
    DATA_FILES,
    DRUGS_FILE,
    EVIDENCE_FILE,
    GERMLINE_FILE,
    KNOWLEDGE_SUBDIR,
    LEVELS_FILE,
    METADATA_FILE,
    ONCOTREE_FILE,
    OPTIONAL_FILES,
    RULES_FILE,
    SCHEMAS,
)
from .hashes import _check_hashes, compute_hashes, file_sha256
from .matching import (
    ALL_CONTEXTS,
    REQUIRED_CLASSES,
    SECONDARY_CITATION_PREFIX,
    TKI_KINDS,
    AlleleClass,
    Drug,
    EvidenceRow,
    GermlinePolymorphism,
    KnowledgeBase,
    Levels,
    VerdictRules,
    allele_key,
)
from .oncotree import OncoTree, parse_oncotree_rows

if TYPE_CHECKING:  # jsonschema and yaml are imported where used: a cached load needs neither
    import jsonschema


_CACHE: dict[tuple[Any, ...], KnowledgeBase] = {}


def knowledge_dir(directory: str | os.PathLike[str] | None = None) -> Path:
    """The knowledge-base folder: DIR itself when it holds evidence.tsv, else DIR/knowledge.

    Accepting the annotations/ folder too means `--annotations annotations/` and
    `kb validate annotations/knowledge` both work. Default: the project's annotations/knowledge
    (or $ERBB2_TKI_ANNOTATIONS/knowledge).
    """
    base = Path(directory) if directory else paths.annotations_dir() / KNOWLEDGE_SUBDIR
    if not (base / EVIDENCE_FILE).is_file() and (base / KNOWLEDGE_SUBDIR / EVIDENCE_FILE).is_file():
        base = base / KNOWLEDGE_SUBDIR
    return base


def load_knowledge(
    directory: str | os.PathLike[str] | None = None,
    *,
    check_hash: bool = True,
    protein: str | None = None,
) -> KnowledgeBase:
    """Load and validate the knowledge base (cached per folder and file state).

    Raises InputError naming the file, the line and the field for anything wrong, including a data
    file that differs from the hash recorded in metadata.yaml (unless check_hash is False, which
    only `kb hash --write` uses). protein defaults to NP_004439.2 from the transcript model.
    """
    base = knowledge_dir(directory)
    if not base.is_dir():
        raise InputError(
            "knowledge-base folder not found",
            path=str(base),
            fix="give the annotations/ folder or its knowledge/ subfolder",
        )
    stamp: list[tuple[str, int | None, int | None]] = []
    for name in (*DATA_FILES, METADATA_FILE):
        try:
            st = (base / name).stat()
            stamp.append((name, st.st_mtime_ns, st.st_size))
        except OSError:
            stamp.append((name, None, None))
    key = (str(base.resolve()), check_hash, protein, tuple(stamp))
    if key not in _CACHE:
        if check_hash:
            _CACHE[key] = _load_cached(base, protein=protein)
        else:
            _CACHE[key] = _load(base, check_hash=check_hash, protein=protein)
    return _CACHE[key]


# -- the on-disk cache of parsed knowledge bases -------------------------------------------------
#
# Parsing and validating the tables (a JSON Schema check per row, every protein change
# normalised on NP_004439.2) costs far more than hashing the files, and every annotate job and
# command-line call used to pay it. A successful load is kept as a pickle in a user cache folder,
# named by a key over everything the parse depends on: the bytes of every data file and of
# metadata.yaml, the transcript model (or the protein given), the package version and the bytes of
# the package's code and schemas. The hash check against metadata.yaml still runs on every load
# (on the cached metadata, which is the parse of the same bytes); a cache entry is only used when
# its key and its content hash match, anything unreadable is ignored and the knowledge base parsed
# again, and a folder that cannot be written only costs the parse.


def _code_fingerprint() -> str:
    from .. import diskcache

    return diskcache.code_fingerprint()


def _transcript_file(base: Path) -> Path:
    from ..naming.transcript import TRANSCRIPT_FILE

    annotations = base.parent if (base.parent / "transcripts").is_dir() else None
    return paths.annotations_dir(annotations) / TRANSCRIPT_FILE


def _cache_key(base: Path, protein: str | None) -> tuple[str, dict[str, str], str]:
    """(cache key, per-file sha256, content hash) of the knowledge base as it is on disk now."""
    from .. import diskcache

    file_hashes, content_hash = compute_hashes(base)
    if protein is not None:
        source = b"protein\n" + protein.encode()
    else:
        try:
            source = b"transcript\n" + _transcript_file(base).read_bytes()
        except OSError:
            source = b"transcript missing"
    key = diskcache.key_of(content_hash, file_sha256(base / METADATA_FILE), source)
    return key, file_hashes, content_hash


def _load_cached(base: Path, *, protein: str | None) -> KnowledgeBase:
    """_load with check_hash, through the on-disk cache (see above)."""
    from .. import diskcache

    if cache_dir() is None or not (base / METADATA_FILE).is_file():
        return _load(base, check_hash=True, protein=protein)
    try:
        key, file_hashes, content_hash = _cache_key(base, protein)
    except OSError:  # a missing data file: _load says which
        return _load(base, check_hash=True, protein=protein)
    kb: KnowledgeBase | None = diskcache.read("kb", key, KnowledgeBase)
    if kb is not None and kb.content_hash == content_hash:
        # the hash check itself always runs: the files against what metadata.yaml records
        _check_hashes(base, kb.metadata, file_hashes, content_hash)
        kb.directory = base
        return kb
    kb = _load(base, check_hash=True, protein=protein)
    diskcache.write("kb", key, kb)
    return kb


def _protein_for(base: Path) -> str:
    from ..naming.transcript import load_transcript

    annotations = base.parent if (base.parent / "transcripts").is_dir() else None
    return load_transcript(annotations).protein


def _load(base: Path, *, check_hash: bool, protein: str | None) -> KnowledgeBase:
    for name in (*DATA_FILES, METADATA_FILE):
        if name in OPTIONAL_FILES and not (base / name).exists():
            continue  # an older version; _check_hashes fails if metadata.yaml records the file
        if not (base / name).is_file():
            raise InputError(
                f"{name} is missing from the knowledge base",
                path=str(base / name),
                fix=f"restore it (every knowledge base has {', '.join((*DATA_FILES, METADATA_FILE))})",
            )
    if protein is None:
        protein = _protein_for(base)
    metadata = _read_yaml(base / METADATA_FILE)
    file_hashes, content_hash = compute_hashes(base)
    if check_hash:
        _check_hashes(base, metadata, file_hashes, content_hash)

    levels = _load_levels(base / LEVELS_FILE)
    oncotree = parse_oncotree_rows(_read_tsv(base / ONCOTREE_FILE), str(base / ONCOTREE_FILE))
    drugs = _load_drugs(base / DRUGS_FILE)
    classes = _load_classes(base / CLASSES_FILE, protein)
    evidence = _load_evidence(base / EVIDENCE_FILE, protein, drugs, classes, oncotree, levels)
    rules = _load_rules(base / RULES_FILE, drugs, classes, protein)
    for row in evidence:
        if row.response not in rules.response_side:
            raise _row_error(
                base / EVIDENCE_FILE,
                row.line,
                "response",
                f"response {row.response} has no side in {RULES_FILE} (response_side)",
                f"give {row.response} a side in {RULES_FILE}",
            )
    germline = (
        _load_germline(base / GERMLINE_FILE, protein) if (base / GERMLINE_FILE).exists() else []
    )
    return KnowledgeBase(
        directory=base,
        version=str(metadata["version"]),
        release_date=str(metadata["release_date"]),
        content_hash=content_hash,
        metadata=metadata,
        drugs=drugs,
        evidence=tuple(evidence),
        classes=classes,
        oncotree=oncotree,
        levels=levels,
        rules=rules,
        protein=protein,
        file_hashes=file_hashes,
        germline=tuple(germline),
    )


# -- reading and schema validation -------------------------------------------------------------


_SCHEMA_CACHE: dict[str, dict[str, Any]] = {}


def _schema(file_name: str) -> dict[str, Any]:
    name = SCHEMAS[file_name]
    if name not in _SCHEMA_CACHE:
        with open(paths.schemas_dir() / name, encoding="utf-8") as handle:
            _SCHEMA_CACHE[name] = load_yaml(handle)
    return _SCHEMA_CACHE[name]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise InputError(
            f"not UTF-8 text ({err.reason} at byte {err.start})",
            path=str(path),
            fix="save the file as UTF-8",
        ) from None


def _read_tsv(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Rows of a knowledge-base TSV as (line number, {column: stripped text}), schema-checked.

    Lines starting with "#" and blank lines are comments; the first other line is the header.
    """
    schema = _schema(path.name)
    columns = list(schema["properties"])
    required = set(schema.get("required", columns))
    header: list[str] | None = None
    absent: list[str] = []  # optional columns a table may leave out (an older version's layout)
    rows: list[tuple[int, dict[str, str]]] = []
    for number, raw in enumerate(_read_text(path).splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        cells = [cell.strip() for cell in raw.split("\t")]
        if header is None:
            header = cells
            unknown = [c for c in header if c not in columns]
            missing = [c for c in columns if c not in header and c in required]
            absent = [c for c in columns if c not in header and c not in required]
            if unknown or missing or len(set(header)) != len(header):
                raise InputError(
                    f"header has columns {header}; expected {columns}",
                    path=str(path),
                    record=f"line {number}",
                    field=(unknown or missing or ["header"])[0],
                    fix=f"use the columns {', '.join(columns)}, tab-separated",
                )
            continue
        if len(cells) != len(header):
            raise InputError(
                f"{len(cells)} tab-separated fields, the header has {len(header)}",
                path=str(path),
                record=f"line {number}",
                field=header[min(len(cells), len(header)) - 1],
                fix="separate the columns with exactly one tab each; leave empty cells empty",
            )
        row = dict(zip(header, cells, strict=True))
        row.update({c: "" for c in absent})
        _validate(row, schema, path, number)
        rows.append((number, row))
    if header is None:
        raise InputError("no header line", path=str(path), fix="restore the header row")
    return rows


def _validate(document: Any, schema: dict[str, Any], path: Path, line: int | None) -> None:
    """Schema-check a row (line given) or a whole YAML document (line looked up from the path)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path)))
    if not errors:
        return
    error = errors[0]
    where = [str(p) for p in error.absolute_path]
    field_name = ".".join(where) if where else None
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        field_name = ".".join([*where, missing]) if missing else field_name
    if line is None:
        line = _yaml_line(path, list(error.absolute_path))
    raise InputError(
        _schema_message(error, field_name),
        path=str(path),
        record=f"line {line}" if line else None,
        field=field_name,
        fix=_schema_fix(error),
    )


def _schema_message(error: jsonschema.ValidationError, field_name: str | None) -> str:
    value = error.instance
    name = field_name or "document"
    if error.validator == "enum":
        return f"{name} {value!r} is not one of {', '.join(map(str, cast('Iterable[Any]', error.validator_value)))}"
    if error.validator == "minLength" and value == "":
        if field_name == "citations":
            return "citations is empty: every evidence row needs at least one citation"
        return f"{name} is empty"
    if error.validator == "pattern":
        return f"{name} {value!r} is not in the expected form"
    if error.validator == "required":
        return f"{name} is missing"
    if error.validator == "additionalProperties":
        return f"{name}: {error.message}"
    return f"{name}: {error.message}"


def _schema_fix(error: jsonschema.ValidationError) -> str | None:
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    if description:
        return cast(str, description).strip()
    parent = error.parent
    if parent is not None and isinstance(parent.schema, dict):
        return parent.schema.get("description")
    return None


def _yaml_line(path: Path, keys: list[Any]) -> int | None:
    """The line of the node at `keys` in a YAML file (for messages)."""
    import yaml

    try:
        node = yaml.compose(_read_text(path))
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            found = None
            for k, v in node.value:
                if k.value == str(key):
                    found = v
                    break
            if found is None:
                return line
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        document = load_yaml(_read_text(path))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise InputError(
            f"not valid YAML: {getattr(err, 'problem', err)}",
            path=str(path),
            record=f"line {mark.line + 1}" if mark else None,
            fix="fix the YAML syntax (indentation, quoting)",
        ) from None
    if not isinstance(document, dict):
        raise InputError("expected a YAML mapping", path=str(path), record="line 1")
    _validate(document, _schema(path.name), path, None)
    return document


def _split(text: str, sep: str = ";") -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(sep) if part.strip())


def _row_error(path: Path, line: int, field_name: str, message: str, fix: str | None) -> InputError:
    return InputError(message, path=str(path), record=f"line {line}", field=field_name, fix=fix)


# -- the tables ------------------------------------------------------------------------------


def _load_levels(path: Path) -> Levels:
    doc = _read_yaml(path)
    rank: dict[str, int] = {}
    meaning: dict[str, str] = {}
    for i, item in enumerate(doc["levels"]):
        if item["level"] in rank:
            raise InputError(
                f"level {item['level']} is defined twice",
                path=str(path),
                record=f"line {_yaml_line(path, ['levels', i])}",
                field="levels.level",
                fix="define each level once",
            )
        rank[item["level"]] = item["rank"]
        meaning[item["level"]] = item["meaning"]
    type_level: dict[str, str] = {}
    type_order: dict[str, int] = {}
    for i, item in enumerate(doc["evidence_types"]):
        where = f"line {_yaml_line(path, ['evidence_types', i])}"
        if item["evidence_type"] in type_level:
            raise InputError(
                f"evidence type {item['evidence_type']} is mapped twice",
                path=str(path),
                record=where,
                field="evidence_types.evidence_type",
                fix="map each evidence type to one level",
            )
        if item["level"] not in rank:
            raise InputError(
                f"evidence type {item['evidence_type']} maps to undefined level {item['level']}",
                path=str(path),
                record=where,
                field="evidence_types.level",
                fix=f"use one of the levels {', '.join(rank)}",
            )
        type_level[item["evidence_type"]] = item["level"]
        type_order[item["evidence_type"]] = item["order"]
    # Every evidence type used by evidence.tsv needs a level (checked row by row on load); a type
    # the schema allows but this version does not use may be absent, so an older knowledge base
    # (1.0.0 has no retrospective_study) still loads for `kb diff`.
    context_levels: dict[str, dict[str, dict[str, str]]] = {}
    for i, item in enumerate(doc.get("in_context") or []):
        if item["evidence_type"] in context_levels:
            raise InputError(
                f"evidence type {item['evidence_type']} has two in_context entries",
                path=str(path),
                record=f"line {_yaml_line(path, ['in_context', i])}",
                field="in_context.evidence_type",
                fix="give each evidence type one in_context entry",
            )
        context_levels[item["evidence_type"]] = {
            key: {ctx: str(v) for ctx, v in item[key].items()}
            for key in ("amp", "oncokb_sensitive", "oncokb_resistant")
        }
    missing = [t for t in type_level if t not in context_levels]
    if context_levels and missing:
        raise InputError(
            f"no levels in context for evidence type(s) {', '.join(missing)}",
            path=str(path),
            field="in_context",
            fix="add an in_context entry for every evidence type",
        )
    return Levels(
        rank=rank,
        meaning=meaning,
        type_level=type_level,
        type_order=type_order,
        context_levels=context_levels,
    )


def _load_drugs(path: Path) -> dict[str, Drug]:
    rows = _read_tsv(path)
    drugs: dict[str, Drug] = {}
    names: dict[str, tuple[str, int]] = {}  # any name (lower) -> (drug, line)
    pending: list[tuple[int, dict[str, str]]] = []
    for line, row in rows:
        name = row["drug"]
        for field_name, values in (
            ("drug", (name,)),
            ("synonyms", _split(row["synonyms"])),
            ("brand_names", _split(row["brand_names"])),
        ):
            for value in values:
                owner = names.get(value.lower())
                if owner is not None:
                    raise _row_error(
                        path,
                        line,
                        field_name,
                        f"{value!r} is already used by {owner[0]} (line {owner[1]})",
                        "each drug, synonym and brand name may appear once in drugs.tsv",
                    )
                names[value.lower()] = (name, line)
        pending.append((line, row))
    kinds = {row["drug"]: row["kind"] for _, row in rows}
    for line, row in pending:
        components = _split(row["components"])
        if row["kind"] == "combination":
            if len(components) < 2:
                raise _row_error(
                    path,
                    line,
                    "components",
                    f"combination {row['drug']!r} lists {len(components)} component(s)",
                    "list the component drugs, joined with '; '",
                )
            for component in components:
                if component not in kinds:
                    raise _row_error(
                        path,
                        line,
                        "components",
                        f"component {component!r} of {row['drug']!r} is not listed in drugs.tsv",
                        "add the component drug as its own row",
                    )
                if kinds[component] == "combination":
                    raise _row_error(
                        path,
                        line,
                        "components",
                        f"component {component!r} is itself a combination",
                        "list the single drugs of the combination",
                    )
            if row["drug"] != " + ".join(components):
                raise _row_error(
                    path,
                    line,
                    "drug",
                    f"combination name {row['drug']!r} is not its components joined with ' + '",
                    f"name it {' + '.join(components)!r}",
                )
        elif components:
            raise _row_error(
                path,
                line,
                "components",
                f"{row['drug']!r} is not a combination but lists components",
                "leave components empty, or set kind to combination",
            )
        contains_tki = row["kind"] in TKI_KINDS or any(kinds[c] in TKI_KINDS for c in components)
        drugs[row["drug"]] = Drug(
            name=row["drug"],
            kind=row["kind"],
            components=components,
            synonyms=_split(row["synonyms"]),
            brand_names=_split(row["brand_names"]),
            regulatory_status=row["regulatory_status"],
            regulatory_note=row["regulatory_note"],
            source=row["source"],
            contains_tki=contains_tki,
            line=line,
        )
    return drugs


def _canonical(text: str, protein: str) -> ProteinChange:
    from ..naming.protein import canonical_protein_change

    return canonical_protein_change(text, protein)


def _load_classes(path: Path, protein: str) -> dict[str, AlleleClass]:
    rows = _read_tsv(path)
    classes: dict[str, AlleleClass] = {}
    for line, row in rows:
        name = row["class"]
        if name in classes:
            raise _row_error(
                path,
                line,
                "class",
                f"class {name} is defined twice (first on line {classes[name].line})",
                "define each class once",
            )
        alleles: list[ProteinChange] = []
        for token in row["alleles"].split():
            try:
                pc = _canonical(token, protein)
            except ValueError as err:
                raise _row_error(
                    path, line, "alleles", str(err), "write each allele as on NP_004439.2"
                ) from None
            if pc.kind == "codon":
                raise _row_error(
                    path,
                    line,
                    "alleles",
                    f"{token!r} is a codon, not an allele",
                    "list complete protein changes such as L755S",
                )
            alleles.append(pc)
        start = int(row["residue_start"]) if row["residue_start"] else None
        end = int(row["residue_end"]) if row["residue_end"] else None
        if start is not None and end is not None and start > end:
            raise _row_error(
                path,
                line,
                "residue_end",
                f"residue_end {end} is before residue_start {start}",
                "give the range low to high",
            )
        if end is not None and end > len(protein):
            raise _row_error(
                path,
                line,
                "residue_end",
                f"residue {end} lies beyond NP_004439.2 ({len(protein)} residues)",
                "use residues of NP_004439.2",
            )
        classes[name] = AlleleClass(
            name=name,
            rule=row["rule"],
            residue_start=start,
            residue_end=end,
            kinds=tuple(row["kinds"].split()),
            alleles=tuple(alleles),
            includes=tuple(row["includes"].split()),
            from_evidence=tuple(row["from_evidence"].split()),
            exclude_kinds=tuple(row["exclude_kinds"].split()),
            definition=row["definition"],
            source=row["source"],
            within=tuple(row["within"].split()),
            line=line,
        )
    for cls in classes.values():
        for column, names in (("includes", cls.includes), ("within", cls.within)):
            for inc in names:
                if inc not in classes:
                    raise _row_error(
                        path,
                        cls.line,
                        column,
                        f"unknown class {inc!r}",
                        f"use one of {', '.join(classes)}",
                    )
        _check_no_cycle(path, classes, cls.name, [])
    for required in REQUIRED_CLASSES:
        if required not in classes:
            raise InputError(
                f"the class {required!r} is missing (oncogenicity depends on it)",
                path=str(path),
                field="class",
                fix=f"define {required}",
            )
    return classes


def _check_no_cycle(
    path: Path, classes: dict[str, AlleleClass], name: str, chain: list[str]
) -> None:
    if name in chain:
        raise _row_error(
            path,
            classes[name].line,
            "includes",
            f"classes include each other in a loop: {' -> '.join([*chain, name])}",
            "remove one of the includes (or within)",
        )
    for inc in (*classes[name].includes, *classes[name].within):
        _check_no_cycle(path, classes, inc, [*chain, name])


def _load_evidence(
    path: Path,
    protein: str,
    drugs: dict[str, Drug],
    classes: dict[str, AlleleClass],
    oncotree: OncoTree,
    levels: Levels,
) -> list[EvidenceRow]:
    rows = _read_tsv(path)
    evidence: list[EvidenceRow] = []
    ids: dict[str, int] = {}
    seen: dict[tuple[Any, ...], tuple[str, int]] = {}
    synonyms = {
        alias.lower(): drug.name
        for drug in drugs.values()
        for alias in (*drug.synonyms, *drug.brand_names)
    }
    for line, row in rows:
        eid = row["evidence_id"]
        if eid in ids:
            raise _row_error(
                path,
                line,
                "evidence_id",
                f"evidence_id {eid} is already used on line {ids[eid]}",
                "give the row a new id (the next unused EVnnnn); never reuse an id",
            )
        ids[eid] = line
        drug = row["drug"]
        if drug not in drugs:
            generic = synonyms.get(drug.lower())
            fix = (
                f"write the generic name {generic!r}"
                if generic
                else "add the drug to drugs.tsv, or correct the spelling"
            )
            raise _row_error(path, line, "drug", f"unknown drug {drug!r}", fix)
        tumour_type = row["tumour_type"]
        if not oncotree.is_evidence_type(tumour_type):
            alias = oncotree.aliases.get(tumour_type)
            fix = (
                f"write the OncoTree code {alias} ({tumour_type} is only accepted in sample sheets)"
                if alias
                else (
                    "use an OncoTree code listed in oncotree.tsv, an OncoTree main type written exactly "
                    "as there (e.g. Breast Cancer), or pan"
                )
            )
            raise _row_error(path, line, "tumour_type", f"unknown tumour type {tumour_type!r}", fix)
        pc: ProteinChange | None = None
        kind = row["alteration_kind"]
        alteration = row["alteration"]
        if kind in ("allele", "codon"):
            try:
                pc = _canonical(alteration, protein)
            except ValueError as err:
                raise _row_error(
                    path,
                    line,
                    "alteration",
                    str(err),
                    "write the protein change on NP_004439.2, e.g. L755S, Y772_A775dup or S310",
                ) from None
            if kind == "allele" and pc.kind == "codon":
                raise _row_error(
                    path,
                    line,
                    "alteration_kind",
                    f"{alteration!r} names a codon, not an allele",
                    "set alteration_kind to codon, or write the full change (e.g. S310F)",
                )
            if kind == "codon" and pc.kind != "codon":
                raise _row_error(
                    path,
                    line,
                    "alteration",
                    f"{alteration!r} is a complete change, not a codon",
                    "write only the residue and position (e.g. S310), or set alteration_kind to allele",
                )
            identity: tuple[Any, ...] = (kind, allele_key(pc))
        else:
            if alteration not in classes:
                raise _row_error(
                    path,
                    line,
                    "alteration",
                    f"unknown class {alteration!r}",
                    f"use one of {', '.join(classes)} or define it in classes.tsv",
                )
            identity = (kind, alteration)
        if row["evidence_type"] not in levels.type_level:
            raise _row_error(
                path,
                line,
                "evidence_type",
                f"no level for evidence type {row['evidence_type']} in {LEVELS_FILE}",
                f"map {row['evidence_type']} to a level in {LEVELS_FILE}",
            )
        citations = _split(row["citations"])
        if all(c.startswith(SECONDARY_CITATION_PREFIX) for c in citations):
            raise _row_error(
                path,
                line,
                "citations",
                f"only CIViC evidence items are cited ({row['citations']}): a CIViC item is a "
                "secondary citation",
                "cite the primary source too (the PMID or DOI the CIViC item curates)",
            )
        duplicate_key = (
            identity,
            drug,
            row["response"],
            row["evidence_type"],
            tumour_type,
            frozenset(citations),
        )
        if duplicate_key in seen:
            first_id, first_line = seen[duplicate_key]
            raise _row_error(
                path,
                line,
                "evidence_id",
                f"duplicate row: same alteration, drug, response, evidence type, tumour type and "
                f"citations as {first_id} (line {first_line})",
                "delete one of the two rows, or say in what they differ",
            )
        seen[duplicate_key] = (eid, line)
        evidence.append(
            EvidenceRow(
                evidence_id=eid,
                alteration=alteration,
                alteration_kind=kind,
                drug=drug,
                response=row["response"],
                evidence_type=row["evidence_type"],
                evidence_level=levels.type_level[row["evidence_type"]],
                tumour_type=tumour_type,
                citations=";".join(citations),
                note=row["note"],
                protein=pc,
                line=line,
            )
        )
    return evidence


def _load_germline(path: Path, protein: str) -> list[GermlinePolymorphism]:
    rows: list[GermlinePolymorphism] = []
    seen: dict[tuple[Any, ...], int] = {}
    for line, row in _read_tsv(path):
        try:
            pc = _canonical(row["alteration"], protein)
        except ValueError as err:
            raise _row_error(
                path,
                line,
                "alteration",
                str(err),
                "write the protein change on NP_004439.2, e.g. I655V",
            ) from None
        if pc.kind == "codon":
            raise _row_error(
                path,
                line,
                "alteration",
                f"{row['alteration']!r} names a codon, not an allele",
                "write the full change, e.g. I655V",
            )
        key = allele_key(pc)
        if key in seen:
            raise _row_error(
                path,
                line,
                "alteration",
                f"{row['alteration']} is already listed on line {seen[key]}",
                "keep one row per polymorphism",
            )
        seen[key] = line
        rows.append(
            GermlinePolymorphism(
                alteration=row["alteration"],
                rsid=row["rsid"],
                citations=";".join(_split(row["citations"])),
                note=row["note"],
                protein=pc,
                line=line,
            )
        )
    return rows


def _load_rules(
    path: Path, drugs: dict[str, Drug], classes: dict[str, AlleleClass], protein: str
) -> VerdictRules:
    doc = _read_yaml(path)
    resistance_alleles: list[tuple[ProteinChange, str, str]] = []
    for i, item in enumerate(doc.get("tki_resistance_alleles") or []):
        try:
            pc = _canonical(item["alteration"], protein)
        except ValueError as err:
            raise InputError(
                str(err),
                path=str(path),
                record=f"line {_yaml_line(path, ['tki_resistance_alleles', i])}",
                field=f"tki_resistance_alleles.{i}.alteration",
                fix="write the protein change on NP_004439.2, e.g. T798I",
            ) from None
        resistance_alleles.append((pc, str(item["citations"]), str(item["note"])))
    for i, name in enumerate(doc["always_report"]):
        if name not in drugs:
            raise InputError(
                f"always_report names unknown drug {name!r}",
                path=str(path),
                record=f"line {_yaml_line(path, ['always_report', i])}",
                field=f"always_report.{i}",
                fix="use generic names listed in drugs.tsv",
            )
    for i, name in enumerate(doc["non_target_classes"]):
        if name not in classes:
            raise InputError(
                f"non_target_classes names unknown class {name!r}",
                path=str(path),
                record=f"line {_yaml_line(path, ['non_target_classes', i])}",
                field=f"non_target_classes.{i}",
                fix=f"use classes defined in classes.tsv: {', '.join(classes)}",
            )
    return VerdictRules(
        verdicts=tuple(doc["verdicts"]),
        response_side=dict(doc["response_side"]),
        unclear_only_verdict=doc["unclear_only_verdict"],
        tumour_type_match_rank={
            "subtype": doc["tumour_type_match_rank"]["other_tumour_type"],
            **doc["tumour_type_match_rank"],
        },
        specific_match_bases=tuple(doc["specific_match_bases"]),
        resistance_allele_overrides=bool(doc["resistance_allele_overrides"]),
        non_target_classes=tuple(doc["non_target_classes"]),
        always_report=tuple(doc["always_report"]),
        amplification_note=" ".join(str(doc["amplification_note"]).split()),
        resistance_contexts=tuple(
            doc.get("resistance_contexts", ALL_CONTEXTS)  # absent: 1.0.0 behaviour
        ),
        component_resistance_cap=doc.get("component_resistance_cap", ""),
        tki_resistance_alleles=tuple(resistance_alleles),
        resistance_allele_warning_kinds=tuple(doc.get("resistance_allele_warning_kinds", ())),
    )
