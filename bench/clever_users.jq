# The clever_users -> people mapping of lib/vendor/clever/map.c, written in jq, for
# bench/run.sh:  jq -c -f bench/clever_users.jq < raw.ndjson
# On the same input it writes the same RECORD lines as normalize.

# A canonical string: strings as they are, numbers and booleans as text.
def str: if type == "string" then . elif type == "number" or type == "boolean" then tojson else empty end;
# {k: value}, or {} when the value is absent, null or of another type.
def field($k; v): (v | str | {($k): .}) // {};
def list($k; v): (v | select(type == "array") | {($k): [.[] | str]}) // {};
def one($k; v): (v | if . == "" then {($k): []} else (str | {($k): [.]}) end) // {};

# Role precedence: the first role the user has wins; contact-only users are left out.
def roles: ["district_admin", "administrator"], ["staff", "staff"], ["teacher", "teacher"], ["student", "student"];

select(.type == "RECORD" and .stream == "clever_users")
| .record as $u
| .time_extracted as $te
| first(roles | select(($u.roles[.[0]]? | type) == "object")) as [$key, $role]
| $u.roles[$key] as $r
| {type: "RECORD", stream: "people", record: (
    {source: "clever", source_id: $u.id, role: $role, status: "active"}
    + field("given_name"; $u.name.first?)
    + field("middle_name"; $u.name.middle?)
    + field("family_name"; $u.name.last?)
    + field("email"; $u.email)
    + field("username"; $r.credentials.district_username?)
    + (if $key == "teacher" then field("employee_id"; $r.teacher_number)
       elif $key == "staff" then field("employee_id"; $r.staff_id) else {} end)
    + field("sis_id"; $r.sis_id)
    + field("state_id"; $r.state_id)
    + (if $key == "student" then field("student_number"; $r.student_number) + field("grade"; $r.grade)
       else {} end)
    + (first((list("org_ids"; $r.schools), one("org_ids"; $r.school)) | select(length > 0)) // {})
    + (if $key != "student" then field("job_title"; $r.title) else {} end)
    + (if $key == "staff" then field("department"; $r.department) else {} end)
    + field("updated_at"; $u.last_modified)
  )}
+ (if $te == null then {} else {time_extracted: $te} end)
