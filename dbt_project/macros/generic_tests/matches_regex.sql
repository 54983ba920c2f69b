{% test matches_regex(model, column_name, regex) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null
        and {{ column_name }}::text !~ '{{ regex }}'
{% endtest %}
