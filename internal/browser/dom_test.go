package browser

import "testing"

func TestTags(t *testing.T) {
	dom := `<html><body data-loaded="true"><table><tbody>` +
		`<tr class="task" data-task-id="a&amp;b" data-state="TASK_RUNNING"><td>x</td></tr>` +
		`<tr class='task' data-task-id=t2 hidden data-state="TASK_FINISHED"></tr>` +
		`<track src="no"></tbody></table></body></html>`
	rows := Tags(dom, "tr")
	if len(rows) != 2 {
		t.Fatalf("Tags(tr) = %v, want 2 rows", rows)
	}
	if rows[0]["data-task-id"] != "a&b" || rows[0]["data-state"] != "TASK_RUNNING" {
		t.Errorf("first row = %v", rows[0])
	}
	if rows[1]["class"] != "task" || rows[1]["data-task-id"] != "t2" {
		t.Errorf("second row = %v", rows[1])
	}
	if _, ok := rows[1]["hidden"]; !ok {
		t.Errorf("second row lacks the bare attribute: %v", rows[1])
	}
	if _, ok := FindTag(dom, "tr", "data-task-id", "t2", "data-state", "TASK_FINISHED"); !ok {
		t.Error("FindTag missed t2")
	}
	if _, ok := FindTag(dom, "tr", "data-task-id", "t2", "data-state", "TASK_RUNNING"); ok {
		t.Error("FindTag matched t2 with the wrong state")
	}
	if _, ok := FindTag(dom, "body", "data-loaded", "true"); !ok {
		t.Error("FindTag missed body data-loaded")
	}
}
