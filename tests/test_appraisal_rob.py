"""RoB 2, ROBINS-I and JBI case-series records: every decision path, checked against an independent oracle.

The oracles below are written directly from the published criteria (RoB 2 full guidance, 22 Aug 2019,
"criteria for judgements" per domain; Sterne 2019 BMJ l4898), as if-ladders on purpose: they are the
test's independent reading of the rules, while the package walks the trees in tools/rob2.toml.
"""
from __future__ import annotations

import itertools

import pytest

from netstrata.appraisal import jbi_case_series, rob2, robins_i
from netstrata.appraisal._tools import load_tool, walk_domain
from netstrata.errors import DataError, ParameterError

YPY, NPN = {"Y", "PY"}, {"N", "PN"}
ANS = ["Y", "PY", "PN", "N", "NI"]
LOW, SC, HIGH = "Low", "Some concerns", "High"
RANK = [LOW, SC, HIGH]


def worse(*js):
    return max(js, key=RANK.index)


def oracle_d1(a):
    if a["1.2"] in NPN:
        return HIGH
    if a["1.2"] == "NI":
        return SC if a["1.3"] in NPN | {"NI"} else HIGH
    if a["1.1"] in NPN:
        return SC
    return LOW if a["1.3"] in NPN | {"NI"} else SC


def oracle_d2_assignment(a):
    if a["2.1"] in NPN and a["2.2"] in NPN or a["2.3"] in NPN:
        part1 = LOW
    elif a["2.3"] == "NI":
        part1 = SC
    elif a["2.4"] in NPN:
        part1 = SC
    else:
        part1 = SC if a["2.5"] in YPY else HIGH
    if a["2.6"] in YPY:
        part2 = LOW
    else:
        part2 = SC if a["2.7"] in NPN else HIGH
    return worse(part1, part2)


def oracle_d2_adherence(a):
    aware = not (a["2.1"] in NPN and a["2.2"] in NPN)
    problem = ((aware and a["2.3"] in NPN | {"NI"}) or a["2.4"] in YPY | {"NI"} or a["2.5"] in YPY | {"NI"})
    if not problem:
        return LOW
    return SC if a["2.6"] in YPY else HIGH


def oracle_d3(a):
    if a["3.1"] in YPY:
        return LOW
    if a["3.2"] in YPY:
        return LOW
    if a["3.2"] not in NPN:
        return "error"                      # 3.2 has no 'NI' option
    if a["3.3"] in NPN:
        return LOW
    return SC if a["3.4"] in NPN else HIGH


def oracle_d4(a):
    if a["4.1"] in YPY or a["4.2"] in YPY:
        return HIGH
    unsure = a["4.2"] == "NI"
    if a["4.3"] in NPN or a["4.4"] in NPN:
        return SC if unsure else LOW
    return SC if a["4.5"] in NPN else HIGH


def oracle_d5(a):
    if a["5.2"] in YPY or a["5.3"] in YPY:
        return HIGH
    if a["5.2"] in NPN and a["5.3"] in NPN:
        return LOW if a["5.1"] in YPY else SC
    return SC


ORACLES = {
    "D1": (oracle_d1, {q: ANS for q in ("1.1", "1.2", "1.3")}),
    "D2": (oracle_d2_assignment, {q: ANS for q in ("2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7")}),
    "D2_adherence": (oracle_d2_adherence, {"2.1": ANS, "2.2": ANS, "2.3": ANS + ["NA"], "2.4": ANS + ["NA"],
                                           "2.5": ANS + ["NA"], "2.6": ANS}),
    "D3": (oracle_d3, {q: ANS for q in ("3.1", "3.2", "3.3", "3.4")}),
    "D4": (oracle_d4, {q: ANS for q in ("4.1", "4.2", "4.3", "4.4", "4.5")}),
    "D5": (oracle_d5, {q: ANS for q in ("5.1", "5.2", "5.3")}),
}


@pytest.mark.parametrize("domain", list(ORACLES))
def test_rob2_domain_tree_matches_published_criteria_for_every_answer_combination(domain):
    oracle, space = ORACLES[domain]
    tool = load_tool("rob2")
    tree = tool["domains"][domain]
    visited = set()
    for combo in itertools.product(*space.values()):
        answers = dict(zip(space, combo))
        expected = oracle(answers)
        if expected == "error":
            with pytest.raises(DataError):
                walk_domain(tree, answers, tool["judgements"])
            continue
        judgement, path = walk_domain(tree, answers, tool["judgements"])
        assert judgement == expected, (domain, answers, path)
        visited.update(path)
    # every (question, answer) branch of the tree is exercised
    branches = {f"{n.question}={a}" for n in tree.nodes.values() for a in n.branches}
    assert branches == visited


# One case per leaf of each decision tree (path as the package reports it).
PATHS = [
    ("D1", {"1.2": "N"}, HIGH, "1.2=N"),
    ("D1", {"1.2": "Y", "1.1": "PN"}, SC, "1.2=Y; 1.1=PN"),
    ("D1", {"1.2": "PY", "1.1": "NI", "1.3": "NI"}, LOW, "1.2=PY; 1.1=NI; 1.3=NI"),
    ("D1", {"1.2": "Y", "1.1": "Y", "1.3": "PY"}, SC, "1.2=Y; 1.1=Y; 1.3=PY"),
    ("D1", {"1.2": "NI", "1.3": "N"}, SC, "1.2=NI; 1.3=N"),
    ("D1", {"1.2": "NI", "1.3": "Y"}, HIGH, "1.2=NI; 1.3=Y"),
    ("D2", {"2.1": "N", "2.2": "N", "2.6": "Y"}, LOW, "2.1=N; 2.2=N; 2.6=Y"),
    ("D2", {"2.1": "N", "2.2": "Y", "2.3": "N", "2.6": "PY"}, LOW, "2.1=N; 2.2=Y; 2.3=N; 2.6=PY"),
    ("D2", {"2.1": "Y", "2.3": "NI", "2.6": "Y"}, SC, "2.1=Y; 2.3=NI; 2.6=Y"),
    ("D2", {"2.1": "Y", "2.3": "Y", "2.4": "N", "2.6": "Y"}, SC, "2.1=Y; 2.3=Y; 2.4=N; 2.6=Y"),
    ("D2", {"2.1": "Y", "2.3": "Y", "2.4": "Y", "2.5": "Y", "2.6": "Y"}, SC,
     "2.1=Y; 2.3=Y; 2.4=Y; 2.5=Y; 2.6=Y"),
    ("D2", {"2.1": "Y", "2.3": "Y", "2.4": "NI", "2.5": "N", "2.6": "Y"}, HIGH,
     "2.1=Y; 2.3=Y; 2.4=NI; 2.5=N; 2.6=Y"),
    ("D2", {"2.1": "N", "2.2": "N", "2.6": "N", "2.7": "N"}, SC, "2.1=N; 2.2=N; 2.6=N; 2.7=N"),
    ("D2", {"2.1": "N", "2.2": "N", "2.6": "NI", "2.7": "Y"}, HIGH, "2.1=N; 2.2=N; 2.6=NI; 2.7=Y"),
    ("D2_adherence", {"2.1": "N", "2.2": "N", "2.4": "NA", "2.5": "N"}, LOW, "2.1=N; 2.2=N; 2.4=NA; 2.5=N"),
    ("D2_adherence", {"2.1": "Y", "2.2": "N", "2.3": "Y", "2.4": "N", "2.5": "NA"}, LOW,
     "2.1=Y; 2.2=N; 2.3=Y; 2.4=N; 2.5=NA"),
    ("D2_adherence", {"2.1": "N", "2.2": "Y", "2.3": "N", "2.6": "Y"}, SC, "2.1=N; 2.2=Y; 2.3=N; 2.6=Y"),
    ("D2_adherence", {"2.1": "N", "2.2": "N", "2.4": "Y", "2.6": "N"}, HIGH, "2.1=N; 2.2=N; 2.4=Y; 2.6=N"),
    ("D2_adherence", {"2.1": "N", "2.2": "N", "2.4": "N", "2.5": "PY", "2.6": "PY"}, SC,
     "2.1=N; 2.2=N; 2.4=N; 2.5=PY; 2.6=PY"),
    ("D3", {"3.1": "Y"}, LOW, "3.1=Y"),
    ("D3", {"3.1": "N", "3.2": "PY"}, LOW, "3.1=N; 3.2=PY"),
    ("D3", {"3.1": "NI", "3.2": "N", "3.3": "PN"}, LOW, "3.1=NI; 3.2=N; 3.3=PN"),
    ("D3", {"3.1": "N", "3.2": "N", "3.3": "Y", "3.4": "N"}, SC, "3.1=N; 3.2=N; 3.3=Y; 3.4=N"),
    ("D3", {"3.1": "N", "3.2": "N", "3.3": "NI", "3.4": "NI"}, HIGH, "3.1=N; 3.2=N; 3.3=NI; 3.4=NI"),
    ("D4", {"4.1": "Y"}, HIGH, "4.1=Y"),
    ("D4", {"4.1": "N", "4.2": "PY"}, HIGH, "4.1=N; 4.2=PY"),
    ("D4", {"4.1": "N", "4.2": "N", "4.3": "N"}, LOW, "4.1=N; 4.2=N; 4.3=N"),
    ("D4", {"4.1": "N", "4.2": "N", "4.3": "Y", "4.4": "PN"}, LOW, "4.1=N; 4.2=N; 4.3=Y; 4.4=PN"),
    ("D4", {"4.1": "N", "4.2": "N", "4.3": "Y", "4.4": "Y", "4.5": "N"}, SC,
     "4.1=N; 4.2=N; 4.3=Y; 4.4=Y; 4.5=N"),
    ("D4", {"4.1": "NI", "4.2": "N", "4.3": "Y", "4.4": "Y", "4.5": "PY"}, HIGH,
     "4.1=NI; 4.2=N; 4.3=Y; 4.4=Y; 4.5=PY"),
    ("D4", {"4.1": "N", "4.2": "NI", "4.3": "N"}, SC, "4.1=N; 4.2=NI; 4.3=N"),
    ("D4", {"4.1": "N", "4.2": "NI", "4.3": "Y", "4.4": "N"}, SC, "4.1=N; 4.2=NI; 4.3=Y; 4.4=N"),
    ("D4", {"4.1": "N", "4.2": "NI", "4.3": "Y", "4.4": "Y", "4.5": "N"}, SC,
     "4.1=N; 4.2=NI; 4.3=Y; 4.4=Y; 4.5=N"),
    ("D4", {"4.1": "N", "4.2": "NI", "4.3": "NI", "4.4": "NI", "4.5": "NI"}, HIGH,
     "4.1=N; 4.2=NI; 4.3=NI; 4.4=NI; 4.5=NI"),
    ("D5", {"5.2": "Y"}, HIGH, "5.2=Y"),
    ("D5", {"5.2": "N", "5.3": "PY"}, HIGH, "5.2=N; 5.3=PY"),
    ("D5", {"5.2": "N", "5.3": "NI"}, SC, "5.2=N; 5.3=NI"),
    ("D5", {"5.2": "N", "5.3": "N", "5.1": "Y"}, LOW, "5.2=N; 5.3=N; 5.1=Y"),
    ("D5", {"5.2": "PN", "5.3": "N", "5.1": "NI"}, SC, "5.2=PN; 5.3=N; 5.1=NI"),
    ("D5", {"5.2": "NI", "5.3": "Y"}, HIGH, "5.2=NI; 5.3=Y"),
    ("D5", {"5.2": "NI", "5.3": "PN"}, SC, "5.2=NI; 5.3=PN"),
]


@pytest.mark.parametrize("domain, answers, expected, path", PATHS)
def test_rob2_every_leaf_of_every_domain(domain, answers, expected, path):
    tool = load_tool("rob2")
    judgement, walked = walk_domain(tool["domains"][domain], answers, tool["judgements"])
    assert (judgement, "; ".join(walked)) == (expected, path)


def _leaf_edges(tree, answers):
    edges = set()
    for node_id in tree.start:
        while node_id in tree.nodes:
            target = tree.nodes[node_id].branches[answers[tree.nodes[node_id].question]]
            if target not in tree.nodes:
                edges.add((node_id, target))
            node_id = target
    return edges


def test_the_listed_cases_reach_every_leaf_of_every_tree():
    tool = load_tool("rob2")
    for key, tree in tool["domains"].items():
        leaves = {(n_id, t) for n_id, n in tree.nodes.items() for t in n.branches.values() if t not in tree.nodes}
        reached = set().union(*(_leaf_edges(tree, p[1]) for p in PATHS if p[0] == key))
        assert reached == leaves, key


LOW_ALL = {"1.1": "Y", "1.2": "Y", "1.3": "N", "2.1": "N", "2.2": "N", "2.6": "Y", "3.1": "Y",
           "4.1": "N", "4.2": "N", "4.3": "N", "5.1": "Y", "5.2": "N", "5.3": "N"}


def test_rob2_overall_is_the_worst_domain():
    assert rob2("S", LOW_ALL).overall == LOW
    r = rob2("S", LOW_ALL | {"3.1": "N", "3.2": "N", "3.3": "Y", "3.4": "N"})
    assert (r.overall, r.overall_algorithm) == (SC, SC)
    r = rob2("S", LOW_ALL | {"4.1": "Y"}, result="pain 26 wk")
    assert r.overall == HIGH and r.result == "pain 26 wk"
    assert list(r.domains["judgement"]) == [LOW, LOW, LOW, HIGH, LOW]


def test_rob2_multiple_some_concerns_can_be_judged_high_with_a_recorded_reason():
    two_sc = LOW_ALL | {"1.2": "NI", "5.1": "N"}
    r = rob2("S", two_sc, multiple_concerns_reason="unconcealed allocation and no protocol in a sham trial")
    assert (r.overall_algorithm, r.overall) == (SC, HIGH)
    assert "multiple domains" in r.overall_reason
    with pytest.raises(ParameterError, match="at least two domains"):
        rob2("S", LOW_ALL | {"1.2": "NI"}, multiple_concerns_reason="only one")
    with pytest.raises(ParameterError, match="non-empty reason"):
        rob2("S", two_sc, multiple_concerns_reason=" ")


def test_rob2_overrides_keep_the_algorithm_and_the_reason():
    r = rob2("Lord 1996", LOW_ALL | {"4.3": "Y", "4.4": "Y", "4.5": "N"},
             overrides={"D4": ("Low", "pain relief self-reported by blinded patients; assessor blinded")})
    row = r.domains.set_index("domain").loc["D4"]
    assert (row.algorithm, row.judgement) == (SC, LOW) and "blinded" in row.override_reason
    assert r.overall == LOW
    r = rob2("S", LOW_ALL, overall_override=("some concerns", "crossover at 3 months"))
    assert (r.overall_algorithm, r.overall, r.overall_reason) == (LOW, SC, "crossover at 3 months")
    with pytest.raises(ParameterError, match="non-empty reason"):
        rob2("S", LOW_ALL, overrides={"D1": ("High", "")})
    with pytest.raises(ParameterError, match="unknown domain"):
        rob2("S", LOW_ALL, overrides={"D9": ("High", "x")})
    with pytest.raises(ParameterError, match="'overrides\\[D1\\]'"):
        rob2("S", LOW_ALL, overrides={"D1": ("Moderate", "x")})


def test_rob2_adherence_effect_uses_the_adherence_domain():
    r = rob2("S", LOW_ALL | {"2.4": "N", "2.5": "Y", "2.6": "N"}, effect="adherence")
    assert r.domains.set_index("domain").loc["D2", "judgement"] == HIGH and r.effect == "adherence"


def test_rob2_bad_answers_are_data_errors_naming_question_and_study():
    with pytest.raises(DataError, match="unanswered") as err:
        rob2("Lord 1996", {k: v for k, v in LOW_ALL.items() if k != "1.2"})
    assert err.value.problems[0].study == "Lord 1996" and err.value.problems[0].column == "1.2"
    with pytest.raises(DataError, match="not allowed here"):
        rob2("S", LOW_ALL | {"3.1": "NA"})
    with pytest.raises(DataError, match="bad answer"):
        rob2("S", LOW_ALL | {"1.1": "maybe"})
    with pytest.raises(DataError, match="unknown signalling question"):
        rob2("S", LOW_ALL | {"9.9": "Y"})
    assert rob2("S", {k: v.lower() for k, v in LOW_ALL.items()}).overall == LOW


def test_rob2_refuses_non_randomised_designs():
    with pytest.raises(DataError, match="RoB 2 cannot be applied"):
        rob2("Govind 2003", LOW_ALL, design="single_arm")


ROBINS_LOW = {f"D{i}": "Low" for i in range(1, 8)}


@pytest.mark.parametrize("changes, expected", [
    ({}, "Low"),
    ({"D2": "Moderate"}, "Moderate"),
    ({"D2": "Moderate", "D5": "No information"}, "No information"),
    ({"D1": "Serious", "D5": "No information"}, "Serious"),
    ({"D1": "Serious", "D3": "Critical"}, "Critical"),
    ({"D7": "Critical", "D6": "No information"}, "Critical"),
])
def test_robins_i_overall_follows_sterne_2016_table_3(changes, expected):
    r = robins_i("Cohen 2010", ROBINS_LOW | changes)
    assert r.overall == r.overall_algorithm == expected


def test_robins_i_refuses_single_arm_and_randomised_studies():
    with pytest.raises(DataError, match="single-arm study has no comparison") as err:
        robins_i("MacVicar 2013", ROBINS_LOW, design="single_arm")
    assert "jbi_case_series" in str(err.value)
    with pytest.raises(DataError, match="use rob2"):
        robins_i("Lord 1996", ROBINS_LOW, design="RCT")


def test_robins_i_needs_all_domains_and_valid_levels():
    with pytest.raises(DataError, match="seven domains"):
        robins_i("S", {"D1": "Low"})
    with pytest.raises(DataError, match="unknown ROBINS-I judgement") as err:
        robins_i("S", ROBINS_LOW | {"D1": "Some concerns"})
    p = err.value.problems[0]
    assert (p.study, p.column, p.found) == ("S", "D1", "Some concerns") and "Serious" in p.expected
    r = robins_i("S", ROBINS_LOW, answers={"1.1": "Y", "1.4": "PY"},
                 overall_override=("Moderate", "residual confounding by block response"))
    assert r.domains.iloc[0]["path"] == "1.1=Y; 1.4=PY" and r.overall == "Moderate"


def test_jbi_case_series_records_answers_and_decision():
    answers = {str(i): "Yes" for i in range(1, 11)} | {"4": "Unclear", "9": "Not applicable"}
    a = jbi_case_series("MacVicar 2013", answers, decision="Include", reason="prospective, consecutive")
    assert (a.n_yes, a.n_applicable, a.decision) == (8, 9, "include")
    with pytest.raises(DataError, match="item unanswered"):
        jbi_case_series("S", {"1": "Yes"}, decision="include", reason="x")
    with pytest.raises(DataError, match="cannot be applied"):
        jbi_case_series("Lord 1996", answers, decision="include", reason="x", design="RCT")
    with pytest.raises(ParameterError, match="decision"):
        jbi_case_series("S", answers, decision="maybe", reason="x")


def test_jbi_case_series_accepts_integer_items_and_text_items_win():
    answers = {str(i): "Yes" for i in range(1, 11)}
    as_ints = {i: "Yes" for i in range(1, 11)} | {4: "Unclear"}
    assert jbi_case_series("S", as_ints, decision="include", reason="x").n_yes == 9
    both = answers | {4: "No"}            # "4" and 4 name one item: the text key is used, as before
    assert jbi_case_series("S", both, decision="include", reason="x").n_yes == 10


def test_tool_definitions_are_consistent():
    for name in ("rob2", "robins_i", "jbi_case_series"):
        tool = load_tool(name)
        assert tool["reference"] and "doi" in tool["reference"]
    assert len(load_tool("jbi_case_series")["items"]) == 10
    assert len(load_tool("robins_i")["domains"]) == 7


# ----------------------------------------------------------------------------- rob.csv (long table)

def _long(study, tool, items, result=""):
    import pandas as pd
    return pd.DataFrame([{"study": study, "result": result, "tool": tool, "item": k, "answer": v[0] if
                          isinstance(v, tuple) else v, "reason": v[1] if isinstance(v, tuple) else ""}
                         for k, v in items.items()])


def test_appraise_table_builds_every_tool_and_checks_designs():
    import pandas as pd
    from netstrata.appraisal import appraise_table
    frame = pd.concat([
        _long("Lord 1996", "RoB2", LOW_ALL | {"D4": ("Some concerns", "unblinded assessor at 27 weeks")},
              result="success 27 wk"),
        _long("Cohen 2010", "robins-i", ROBINS_LOW | {"D1": "Serious", "1.1": "Y"}),
        _long("MacVicar 2013", "JBI case series",
              {str(i): "Yes" for i in range(1, 11)} | {"decision": ("include", "consecutive series")}),
    ], ignore_index=True)
    studies = pd.DataFrame({"study": ["Lord 1996", "Cohen 2010", "MacVicar 2013"],
                            "design": ["RCT", "NRS_comparative", "single_arm"]})
    table = appraise_table(frame, studies)
    assert table.overall("Lord 1996", "success 27 wk") == SC
    assert table.overall("Cohen 2010") == "Serious"
    assert table.overall("MacVicar 2013") == "include"
    assert list(table.frame.columns[:3]) == ["study", "result", "tool"]
    assert repr(table) == "RiskOfBiasTable(JBI case series=1, ROBINS-I=1, RoB 2=1)"


def test_appraise_table_collects_every_problem():
    import pandas as pd
    from netstrata.appraisal import appraise_table
    frame = pd.concat([_long("MacVicar 2013", "ROBINS-I", ROBINS_LOW),
                       _long("Lord 1996", "RoB 2", {k: v for k, v in LOW_ALL.items() if k != "3.1"})],
                      ignore_index=True)
    studies = pd.DataFrame({"study": ["MacVicar 2013", "Lord 1996"], "design": ["single_arm", "RCT"]})
    with pytest.raises(DataError) as err:
        appraise_table(frame, studies)
    text = str(err.value)
    assert "2 problems" in text and "single-arm study has no comparison" in text
    assert "D3 not judged" in text and "3.1" in text and "unanswered" in text
    with pytest.raises(DataError, match="unknown appraisal tool \\(also rows 3, 4") as err:
        appraise_table(_long("S", "Cochrane RoB", LOW_ALL))
    assert len(err.value.problems) == 1 and err.value.problems[0].row == 2
    assert appraise_table(_long("S", "RoB 2.0", LOW_ALL)).overall("S") == LOW
    with pytest.raises(DataError, match="required columns"):
        appraise_table(pd.DataFrame({"study": ["S"]}))
