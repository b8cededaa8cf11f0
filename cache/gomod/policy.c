/* SPDX-License-Identifier: MIT */
/*
 * policy.c — allow and deny rules: which module versions may be served at all.
 *
 * A rule is a GOPRIVATE-style glob (pattern.c: it covers every module under the matched path
 * prefix), optionally followed by '@' and a version range: one comparison, <, <=, >, >= or =,
 * against a semantic version ("github.com/x/y@<v1.4.2"). Versions compare as semver_compare does,
 * so a pseudo-version sorts just before the release it precedes and build metadata
 * (+incompatible) is ignored. Deny wins over allow; when any allow rule exists, a module no allow
 * rule covers is refused too.
 *
 * A rule with a range decides only for keys that carry a version: list and @latest of the module
 * stay answerable under a ranged deny rule, and are answered under a ranged allow rule. A version query (.info of a branch or a commit)
 * cannot be placed in a range before it is resolved, so it is taken as the cautious side: covered
 * by a deny range, not covered by an allow range. Being pure, the check costs a few string
 * comparisons per rule and runs before anything touches the store or upstream.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomod.h"

typedef enum rule_op { OP_ANY, OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ } rule_op_t;

typedef struct rule {
    char *text;    /* the rule as written (trimmed), for messages */
    size_t glob_len;
    rule_op_t op;
    const char *version; /* points into text, after the operator; NULL for OP_ANY */
} rule_t;

typedef struct rule_list {
    rule_t *rules;
    size_t count;
} rule_list_t;

struct modpolicy {
    rule_list_t allow;
    rule_list_t deny;
};

static void rules_dispose(rule_list_t *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->rules[i].text);
    free(l->rules);
    l->rules = NULL;
    l->count = 0;
}

static int rule_parse(const char *s, size_t len, const char *what, rule_t *r, cache_err_t *err)
{
    char q[160];
    r->text = strndup(s, len);
    if (r->text == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    const char *at = memchr(r->text, '@', len);
    r->glob_len = at ? (size_t)(at - r->text) : len;
    if (r->glob_len > 0 && r->text[r->glob_len - 1] == '/')
        r->glob_len--;
    if (r->glob_len == 0)
        return cache_err_set(err, -EINVAL, "%s rule %s: no module pattern", what, str_quote(q, sizeof q, s, len));
    int rc = modpath_glob_check(r->text, r->glob_len, err);
    if (rc != 0)
        return cache_err_prefix(err, rc, "%s rule", what);
    r->op = OP_ANY;
    r->version = NULL;
    if (at == NULL)
        return 0;
    const char *v = at + 1;
    if (v[0] == '<' && v[1] == '=')
        r->op = OP_LE, v += 2;
    else if (v[0] == '>' && v[1] == '=')
        r->op = OP_GE, v += 2;
    else if (v[0] == '<')
        r->op = OP_LT, v += 1;
    else if (v[0] == '>')
        r->op = OP_GT, v += 1;
    else if (v[0] == '=')
        r->op = OP_EQ, v += 1;
    else
        return cache_err_set(err, -EINVAL, "%s rule %s: the version range must start with <, <=, >, >= or =", what,
                             str_quote(q, sizeof q, s, len));
    if (!semver_is_valid(v))
        return cache_err_set(err, -EINVAL, "%s rule %s: %s is not a semantic version (e.g. v1.4.2)", what,
                             str_quote(q, sizeof q, s, len), v[0] ? v : "nothing");
    r->version = v;
    return 0;
}

static int rules_parse(const char *list, const char *what, rule_list_t *out, cache_err_t *err)
{
    out->rules = NULL;
    out->count = 0;
    if (list == NULL)
        return 0;
    size_t cap = 1;
    for (const char *c = list; *c; c++)
        cap += *c == ',';
    out->rules = calloc(cap, sizeof *out->rules);
    if (out->rules == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    const char *p = list;
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        const char *s = p, *e = p + n;
        p = *e == ',' ? e + 1 : e;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (s == e)
            continue;
        int rc = rule_parse(s, (size_t)(e - s), what, &out->rules[out->count], err);
        out->count++; /* even on failure: its text is freed with the others */
        if (rc != 0) {
            rules_dispose(out);
            return rc;
        }
    }
    return 0;
}

int modpolicy_new(const char *allow, const char *deny, modpolicy_t **out, cache_err_t *err)
{
    *out = NULL;
    modpolicy_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    int rc = rules_parse(allow, "allow", &p->allow, err);
    if (rc == 0)
        rc = rules_parse(deny, "deny", &p->deny, err);
    if (rc != 0) {
        modpolicy_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void modpolicy_free(modpolicy_t *p)
{
    if (p == NULL)
        return;
    rules_dispose(&p->allow);
    rules_dispose(&p->deny);
    free(p);
}

bool modpolicy_empty(const modpolicy_t *p)
{
    return p == NULL || (p->allow.count == 0 && p->deny.count == 0);
}

/* Whether r covers module@version. A ranged rule cannot place list/@latest (no version) nor a
 * query (not semver): for a deny rule they count as covered only when cautious says so. */
static bool rule_covers(const rule_t *r, const char *module, const char *version, bool deny)
{
    if (!modpath_glob_match_prefix(r->text, r->glob_len, module))
        return false;
    if (r->op == OP_ANY)
        return true;
    if (version == NULL || version[0] == '\0')
        return !deny; /* list, @latest: the module as a whole is neither refused nor excluded */
    if (!semver_is_valid(version))
        return deny; /* a query may resolve into the range */
    int c = semver_compare(version, r->version);
    switch (r->op) {
    case OP_LT:
        return c < 0;
    case OP_LE:
        return c <= 0;
    case OP_GT:
        return c > 0;
    case OP_GE:
        return c >= 0;
    case OP_EQ:
        return c == 0;
    case OP_ANY:
        break;
    }
    return true;
}

int modpolicy_check(const modpolicy_t *p, const char *module, const char *version, cache_err_t *err)
{
    if (modpolicy_empty(p))
        return 0;
    char what[MODKEY_MAX + 64];
    snprintf(what, sizeof what, "%s%s%s", module, version && version[0] ? "@" : "", version ? version : "");
    for (size_t i = 0; i < p->deny.count; i++)
        if (rule_covers(&p->deny.rules[i], module, version, true))
            return cache_err_set(err, -EACCES, "%s is refused by the deny rule \"%s\"", what, p->deny.rules[i].text);
    if (p->allow.count == 0)
        return 0;
    for (size_t i = 0; i < p->allow.count; i++)
        if (rule_covers(&p->allow.rules[i], module, version, false))
            return 0;
    return cache_err_set(err, -EACCES, "%s is refused: no allow rule covers it", what);
}
