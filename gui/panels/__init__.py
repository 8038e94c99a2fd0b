"""Side panels that edit the plan: model, workload (training / serving / fine-tuning), stage layer split."""
