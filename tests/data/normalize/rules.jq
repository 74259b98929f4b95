if $stream == "people" and .role == "student" then empty
elif $stream == "people" then . + {job_title: ((.job_title // "") | ascii_upcase)}
else . end
