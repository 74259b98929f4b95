"""Writes the fake OneRoster server's fixture district (JSON arrays of 1.1
records) as a OneRoster 1.1 CSV bundle, so a case can compare what
normalize makes of the REST extractor's output with what it makes of the
same district's drop. Usage: json-to-bundle.py FIXTURES_DIR OUT_DIR"""
import csv
import json
import os
import sys

FILES = {
    "orgs": ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"],
    "academicSessions": ["sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate",
                         "parentSourcedId", "schoolYear"],
    "courses": ["sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode", "grades",
                "orgSourcedId", "subjects", "subjectCodes"],
    "classes": ["sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode",
                "classType", "location", "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes", "periods"],
    "users": ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role", "username",
              "userIds", "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
              "agentSourcedIds", "grades", "password"],
    "enrollments": ["sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId",
                    "userSourcedId", "role", "primary", "beginDate", "endDate"],
}
# CSV column -> the JSON field it comes from
RENAMES = {"parentSourcedId": "parent", "schoolYearSourcedId": "schoolYear", "orgSourcedId": "org",
           "courseSourcedId": "course", "schoolSourcedId": "school", "termSourcedIds": "terms",
           "orgSourcedIds": "orgs", "agentSourcedIds": "agents", "classSourcedId": "class",
           "userSourcedId": "user"}


def cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return v.get("sourcedId", "")
    if isinstance(v, list):
        out = []
        for x in v:
            if isinstance(x, dict) and "identifier" in x:
                out.append("{%s:%s}" % (x["type"], x["identifier"]))
            else:
                out.append(cell(x))
        return ",".join(out)
    return str(v)


def main(src, out):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "manifest.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["propertyName", "value"])
        w.writerow(["manifest.version", "1.0"])
        w.writerow(["oneroster.version", "1.1"])
        for name in ("academicSessions", "categories", "classes", "classResources", "courses",
                     "courseResources", "demographics", "enrollments", "lineItems", "orgs",
                     "resources", "results", "users"):
            w.writerow(["file." + name, "bulk" if name in FILES else "absent"])
    for name, cols in FILES.items():
        with open(os.path.join(src, name + ".json"), encoding="utf-8") as f:
            recs = json.load(f)
        with open(os.path.join(out, name + ".csv"), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for r in recs:
                w.writerow([cell(r.get(RENAMES.get(c, c))) for c in cols])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
