#!/usr/bin/python3
"""The clever_users -> people mapping of lib/vendor/clever/map.c in Python (json
module), for bench/run.sh:  /usr/bin/python3 bench/normalize_ref.py < raw.ndjson
On the same input it writes the same RECORD lines as normalize."""
import json
import sys

# Role precedence: the first role the user has wins; contact-only users are left out.
ROLES = (("district_admin", "administrator"), ("staff", "staff"),
         ("teacher", "teacher"), ("student", "student"))


def text(v):
    """A canonical string: strings as they are, numbers and booleans as text."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    return None


def get(obj, *path):
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def person(u):
    roles = u.get("roles")
    for key, role in ROLES:
        r = get(roles, key)
        if isinstance(r, dict):
            break
    else:
        return None
    p = {"source": "clever", "source_id": u["id"], "role": role, "status": "active"}

    def put(field, value):
        value = text(value)
        if value is not None:
            p[field] = value

    put("given_name", get(u, "name", "first"))
    put("middle_name", get(u, "name", "middle"))
    put("family_name", get(u, "name", "last"))
    put("email", u.get("email"))
    put("username", get(r, "credentials", "district_username"))
    if key == "teacher":
        put("employee_id", r.get("teacher_number"))
    elif key == "staff":
        put("employee_id", r.get("staff_id"))
    put("sis_id", r.get("sis_id"))
    put("state_id", r.get("state_id"))
    if key == "student":
        put("student_number", r.get("student_number"))
        put("grade", r.get("grade"))
    schools, school = r.get("schools"), r.get("school")
    if isinstance(schools, list):
        p["org_ids"] = [t for t in map(text, schools) if t is not None]
    elif school == "":
        p["org_ids"] = []
    elif text(school) is not None:
        p["org_ids"] = [text(school)]
    if key != "student":
        put("job_title", r.get("title"))
    if key == "staff":
        put("department", r.get("department"))
    put("updated_at", u.get("last_modified"))
    return p


def main():
    out = sys.stdout
    dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for line in sys.stdin.buffer:
        msg = json.loads(line)
        if msg.get("type") != "RECORD" or msg.get("stream") != "clever_users":
            continue
        p = person(msg["record"])
        if p is None:
            continue
        rec = {"type": "RECORD", "stream": "people", "record": p}
        if msg.get("time_extracted") is not None:
            rec["time_extracted"] = msg["time_extracted"]
        out.write(dump(rec) + "\n")


if __name__ == "__main__":
    main()
